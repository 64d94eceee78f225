"""The reference store has no tables of its own.

This module exists because Django sends ``post_migrate`` only to apps with a models
module, and the store's receivers (role groups, media) must run after every migrate.
"""
