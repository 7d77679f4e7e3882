"""Relief Index: a search and knowledge index for health web pages."""

from .config import Settings, load_settings
from .model import SearchResponse
from .search import Index, SearchRequest

__all__ = ["Index", "SearchRequest", "SearchResponse", "Settings", "load_settings"]
