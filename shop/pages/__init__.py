"""Wagtail content of the reference store: the home page and content pages."""
