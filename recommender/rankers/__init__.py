"""Rankers behind one API (see :mod:`recommender.rankers.base`).

Importing this package registers every backend in ``REGISTRY`` by its
``kind``, which is what the artifact stores and loads by. Extension points:
a content model (scikit-learn TF-IDF over product text, scoring a user's row
against an item x item text-similarity matrix like :class:`ItemKNN`) and a
session-based model (scoring the current session's items the same way) are
new ``Ranker`` subclasses with ``@register``; the pipeline then only needs
them added to its candidate list.
"""

from recommender.rankers.base import REGISTRY, Ranker, make  # noqa: F401
from recommender.rankers.blend import Blend  # noqa: F401
from recommender.rankers.factor import ALS, BPR  # noqa: F401
from recommender.rankers.neighbours import EASE, ItemKNN  # noqa: F401
from recommender.rankers.popularity import Popularity  # noqa: F401
from recommender.rankers.repeat import Repeat  # noqa: F401
