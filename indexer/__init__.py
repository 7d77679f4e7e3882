"""Relief Index: a search and knowledge index for health web pages."""

from .config import Settings, load_settings
from .model import SearchResponse
from .search import Index

__all__ = ["Index", "SearchResponse", "Settings", "load_settings"]
