"""Item features (title, description, category, brand, attributes) for the content model.

Content similarity is what makes a product recommendable before anyone has looked at it,
so the catalogue, not the interactions, decides which items exist: :func:`with_catalogue`
appends the catalogue's items that have no interactions yet to the item index (existing
indices keep their place, so a split and the full data share one index space).

Features are plain strings per item; :meth:`ItemFeatures.matrix` turns them into one
L2-normalised sparse row per item: TF-IDF over words for ``title`` and ``description``,
and TF-IDF over whole tokens for ``category`` (every level of a ``A > B`` path, several
categories separated by ``|``), ``brand`` and attributes (``name=value``), each field
weighted. Cosine similarity of those rows is :func:`recommender.rankers.content.content_neighbours`.

The CSV form (``python -m recommender train --items FILE``) is ``item_id`` plus any of
``title,description,category,brand``; every other column is an attribute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.data import csv_with_columns
from recommender.errors import InputError

TEXT_FIELDS = ("title", "description")
KNOWN_COLUMNS = ("title", "description", "category", "brand")
#: How much each field counts in an item's vector (the vector is normalised afterwards, so
#: only the ratios matter). Overridable by the ``content_field_weights`` config key.
FIELD_WEIGHTS = {"title": 1.0, "description": 0.5, "category": 1.0, "brand": 1.0, "attributes": 0.6}
_CATEGORY_SPLIT = re.compile(r"\s*(?:>|/)\s*")


@dataclass
class ItemFeatures:
    """Per item (aligned with an item index): its text fields and attribute tokens."""

    item_ids: np.ndarray  # external ids (object array of str)
    title: list[str]
    description: list[str]
    category: list[str]  # "A > B|C" : paths, several separated by "|"
    brand: list[str]
    attributes: list[dict[str, str]]
    primary_category: list[str]  # the category popular lists use ("" when unknown)
    _cache: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.item_ids)

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "ItemFeatures":
        """From dicts with ``item_id`` and any of the fields (``attributes`` a dict)."""
        get = lambda r, k: str(r.get(k) or "").strip()  # noqa: E731
        return cls(
            np.array([str(r["item_id"]) for r in rows], dtype=object),
            [get(r, "title") for r in rows], [get(r, "description") for r in rows],
            [get(r, "category") for r in rows], [get(r, "brand") for r in rows],
            [{str(k): str(v) for k, v in (r.get("attributes") or {}).items() if str(v).strip()} for r in rows],
            [get(r, "primary_category") or get(r, "category").split("|")[0].strip() for r in rows],
        )

    def reindex(self, item_ids) -> "ItemFeatures":
        """The same features aligned to ``item_ids`` (items without features get empty ones)."""
        where = {item: i for i, item in enumerate(self.item_ids)}
        pos = [where.get(str(item), -1) for item in item_ids]

        def pick(values, empty):
            return [values[p] if p >= 0 else empty for p in pos]

        return ItemFeatures(np.asarray(item_ids, dtype=object), pick(self.title, ""), pick(self.description, ""),
                            pick(self.category, ""), pick(self.brand, ""), pick(self.attributes, {}),
                            pick(self.primary_category, ""))

    def tokens(self, i: int) -> dict[str, list[str]]:
        """Whole-value tokens of item ``i`` per categorical field."""
        cats = []
        for path in filter(None, (p.strip() for p in self.category[i].split("|"))):
            parts = [p for p in _CATEGORY_SPLIT.split(path) if p]
            cats += [" > ".join(parts[:d]).lower() for d in range(1, len(parts) + 1)]
        return {"category": cats,
                "brand": [self.brand[i].lower()] if self.brand[i] else [],
                "attributes": [f"{k.lower()}={v.lower()}" for k, v in sorted(self.attributes[i].items())]}

    def matrix(self, weights: dict | None = None) -> sp.csr_matrix:
        """Items x features, rows L2-normalised (empty items stay all-zero rows). Cached."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.preprocessing import normalize

        w = {**FIELD_WEIGHTS, **(weights or {})}
        key = tuple(sorted(w.items()))
        if key in self._cache:
            return self._cache[key]
        n = len(self)
        blocks = []
        for name in TEXT_FIELDS:
            docs = getattr(self, name)
            if w[name] > 0 and any(docs):
                vec = TfidfVectorizer(sublinear_tf=True, min_df=1, max_df=0.5 if n > 20 else 1.0,
                                      strip_accents="unicode", dtype=np.float32)
                try:
                    blocks.append(w[name] * normalize(vec.fit_transform(docs)))
                except ValueError:  # only stop words, or every word in more than half the items
                    pass
        per_item = [self.tokens(i) for i in range(n)]
        for name in ("category", "brand", "attributes"):
            docs = [t[name] for t in per_item]
            if w[name] > 0 and any(docs):
                vec = TfidfVectorizer(analyzer=lambda tokens: tokens, dtype=np.float32)
                blocks.append(w[name] * normalize(vec.fit_transform(docs)))
        m = normalize(sp.hstack(blocks, format="csr")) if blocks else sp.csr_matrix((n, 0), dtype=np.float32)
        self._cache[key] = m = sp.csr_matrix(m, dtype=np.float32)
        return m


def with_catalogue(inter, features: ItemFeatures | None):
    """``inter`` with the catalogue's items added to its item index and features attached.

    Items only in the catalogue (new products) are appended after the interacted ones;
    their category comes from the catalogue. Returns ``inter`` itself when ``features``
    is None.
    """
    from recommender.data import Interactions

    if features is None:
        return inter
    known = set(inter.item_ids)
    extra = [item for item in features.item_ids if item not in known]
    item_ids = np.concatenate([inter.item_ids, np.array(extra, dtype=object)]) if extra else inter.item_ids
    aligned = features.reindex(item_ids)
    cat = inter.item_category
    if cat is not None or any(aligned.primary_category):
        cat = np.concatenate([cat if cat is not None else np.full(inter.n_items, "", dtype=object),
                              np.full(len(extra), "", dtype=object)])
        missing = cat == ""
        cat[missing] = np.asarray(aligned.primary_category, dtype=object)[missing]
    out = Interactions(inter.user_ids, item_ids, inter.users, inter.items, inter.times, inter.events,
                       inter.weights, cat, dict(inter.meta), aligned)
    return out


def load_items_csv(path: str | Path) -> ItemFeatures:
    """``item_id`` plus any of title, description, category, brand; other columns are attributes."""
    with csv_with_columns(path, "items", ("item_id",)) as (p, header, reader):
        if len(header) < 2:
            raise InputError(f"{p}: no feature columns: want item_id and any of {', '.join(KNOWN_COLUMNS)} "
                             "or attribute columns")
        if len(set(header)) < len(header):
            raise InputError(f"{p}: duplicate column names in the header")
        iid = header.index("item_id")
        attrs = [(j, h) for j, h in enumerate(header) if h not in KNOWN_COLUMNS and h != "item_id"]
        known = {h: header.index(h) for h in KNOWN_COLUMNS if h in header}
        rows, seen = [], set()
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise InputError(f"{p}: line {lineno}: expected {len(header)} fields, got {len(row)}")
            item = row[iid].strip()
            if not item:
                raise InputError(f"{p}: line {lineno}: empty item_id")
            if item in seen:
                raise InputError(f"{p}: line {lineno}: item {item!r} appears twice")
            seen.add(item)
            rows.append({"item_id": item, **{h: row[j] for h, j in known.items()},
                         "attributes": {h: row[j] for j, h in attrs}})
    if not rows:
        raise InputError(f"{p}: no items (header but no rows)")
    return ItemFeatures.from_rows(rows)
