"""Names shared by the index, the search side, the CLI and the web app, written once.

The facet names are what users type (`claim:caution`) and what responses carry; the
index stores them under the field names beside them.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

# facet name in responses and filters → index field
FACETS: dict[str, str] = {"treatment": "treatment", "condition": "condition", "claim": "claim_type", "evidence": "evidence"}
FACET_NAMES: tuple[str, ...] = tuple(FACETS)
CLAIM_TYPES: tuple[str, ...] = ("efficacy", "comparison", "statistic", "mechanism", "caution")
EVIDENCE_VALUES: tuple[str, ...] = ("study", "expert", "none")
POLARITIES: tuple[str, ...] = ("positive", "negative")
TEXT_FIELDS: tuple[str, ...] = ("text", "title", "heading")

__all__ = ["CLAIM_TYPES", "DATA_DIR", "EVIDENCE_VALUES", "FACETS", "FACET_NAMES", "POLARITIES", "TEXT_FIELDS"]
