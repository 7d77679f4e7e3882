"""Cleaning stage: RawPage → Page (title, byline, date, main-text blocks).

Two layers:

* **Per page** (`clean_page`, in ``page.py``): HTML is walked once (``walk.py``), its
  segments scored by rules (``content.py``), described by features (``features.py``) and
  chosen by a small logistic block model (``blockmodel.py``, weights in
  ``data/clean_model.json`` fitted by scripts/fit_clean.py), then assembled into blocks;
  title/byline/date are read by ``metadata.py``; plain-text dumps take their own path
  (``text.py``). Thresholds and vocabularies are data (``rules.py`` reads
  ``data/clean_rules.toml``).
* **Per site** (`learn_site_template` + `strip_template`, in ``template.py``): blocks, and
  single lines of lists, that repeat on many pages of one site are template text the
  per-page layer missed.

Failures are values: `clean_page` returns an `IngestError` and never raises.
"""

from .page import clean_page
from .rules import block_key
from .template import learn_site_template, strip_template

__all__ = ["clean_page", "learn_site_template", "strip_template", "block_key"]
