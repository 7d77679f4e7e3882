"""Knowledge layer: treatments, conditions and claims per passage (work in progress)."""

from __future__ import annotations

from .model import Page


def annotate(page: Page) -> Page:
    """The page with treatments, conditions and claims filled (stub: unchanged)."""
    return page
