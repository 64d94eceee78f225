"""Rankers behind one API (see :mod:`recommender.rankers.base`).

Importing this package registers every backend in ``REGISTRY`` by its
``kind``, which is what the artifact stores and loads by. A new backend is a
``Ranker`` subclass with ``@register``; the pipeline then only needs it added
to its candidate list (as :class:`Content` is, when item features are known).
"""

from recommender.rankers.base import REGISTRY, Ranker, make  # noqa: F401
from recommender.rankers.blend import Blend  # noqa: F401
from recommender.rankers.content import Content  # noqa: F401
from recommender.rankers.factor import ALS, BPR  # noqa: F401
from recommender.rankers.neighbours import EASE, ItemKNN  # noqa: F401
from recommender.rankers.popularity import Popularity  # noqa: F401
from recommender.rankers.repeat import Repeat  # noqa: F401
