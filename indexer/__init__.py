"""Relief Index: a search and knowledge index for health web pages."""
