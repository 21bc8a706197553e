"""A bot that answers questions about one AFP story with the story's own words."""

__version__ = "0.1.0"
