"""Reads both blueprints share: a page, the treatments, a claims report, or a 404."""

from __future__ import annotations

from indexer.config import Settings
from indexer.search import ClaimsReport, Index, PageView, TreatmentInfo

from .params import BadParameter, ClaimsParams

__all__ = ["find_about", "find_claims", "find_page"]


def find_page(index: Index, page_id: str) -> PageView:
    """The page (the id is only ever a lookup key), or 404."""
    missing = BadParameter(None, "There is no page with this id in the index.", status=404)
    if not page_id or len(page_id) > 1000:
        raise missing
    page = index.page(page_id)
    if page is None:
        raise missing
    return page


def find_claims(index: Index, params: ClaimsParams, treatments: list[TreatmentInfo]) -> ClaimsReport | None:
    """The claims report for the chosen treatment; None when none is chosen; 404 for an unknown one."""
    if params.treatment is None:
        return None
    known = {t.id for t in treatments}
    if known and params.treatment not in known:
        raise BadParameter(
            "treatment", f"No treatment with the id '{params.treatment}' in the index; pick one from the list.", 404
        )
    return index.claims(treatment=params.treatment, type=params.type)


def find_about(index: Index, params: ClaimsParams, config: Settings) -> ClaimsReport:
    """Each page's position on a treatment named in free words, reading at most
    `about_max_pages` pages: the scan re-reads stored text, so a URL gets a budget."""
    return index.claims(about=params.about, max_pages=config.about_max_pages)
