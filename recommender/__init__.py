"""Recommender: trains collaborative-filtering and content models offline, publishes top-N lists and neighbours, and serves them cheaply."""
