"""Content similarity: item features, neighbours for products nobody has seen, the
``--items`` file of the command line, and the model directory."""

import json

import numpy as np
import pytest

from recommender import artifact
from recommender.cli import main
from recommender.config import load_config
from recommender.data import Interactions, TrainData
from recommender.items import ItemFeatures, load_items_csv, with_catalogue
from recommender.rankers import Content
from recommender.rankers.content import content_similarity
from recommender.synthetic import write_items_csv

ITEMS = [
    {"item_id": "tea-1", "title": "Breakfast tea", "description": "Strong black tea from Assam",
     "category": "Kitchen > Tea", "brand": "Leafco", "attributes": {"caffeine": "yes"}},
    {"item_id": "tea-2", "title": "Earl Grey tea", "description": "Black tea with bergamot",
     "category": "Kitchen > Tea", "brand": "Leafco", "attributes": {"caffeine": "yes"}},
    {"item_id": "tea-new", "title": "Assam breakfast tea, strong", "description": "Black tea, strong and malty",
     "category": "Kitchen > Tea", "brand": "Leafco", "attributes": {"caffeine": "yes"}},
    {"item_id": "mug", "title": "Stoneware mug", "description": "A big mug", "category": "Kitchen > Cups",
     "brand": "Potters", "attributes": {"material": "stoneware"}},
    {"item_id": "cup", "title": "Porcelain cup", "description": "A fine cup", "category": "Kitchen > Cups",
     "brand": "Potters", "attributes": {"material": "porcelain"}},
    {"item_id": "boots", "title": "Walking boots", "description": "Waterproof leather boots",
     "category": "Outdoor > Footwear", "brand": "Hillside", "attributes": {"material": "leather"}},
]


def neighbours(S, features, item):
    row = S[list(features.item_ids).index(item)]
    order = np.argsort(-row.data, kind="stable")
    return [features.item_ids[j] for j in row.indices[order]]


def test_nearest_neighbours_share_text_category_and_brand():
    features = ItemFeatures.from_rows(ITEMS)
    S = content_similarity(features, 3)
    assert neighbours(S, features, "tea-new")[:2] in (["tea-1", "tea-2"], ["tea-2", "tea-1"])
    assert neighbours(S, features, "mug")[0] == "cup"
    assert "boots" not in neighbours(S, features, "tea-1")  # nothing in common: no similarity at all
    assert (S.diagonal() == 0).all() and np.diff(S.indptr).max() <= 3
    assert content_similarity(features, 3) is S  # computed once per feature set and size


def test_category_path_levels_and_several_categories_are_tokens():
    f = ItemFeatures.from_rows([{"item_id": "x", "category": "Kitchen > Tea|Gifts", "brand": "Leafco",
                                 "attributes": {"Caffeine": "Yes"}}])
    assert f.tokens(0) == {"category": ["kitchen", "kitchen > tea", "gifts"], "brand": ["leafco"],
                           "attributes": ["caffeine=yes"]}
    assert f.primary_category == ["Kitchen > Tea"]


def test_similarity_is_top_n_and_sparse_for_a_large_catalogue():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    rows = [{"item_id": str(i), "title": " ".join(rng.choice(words, 4)), "category": f"c{i % 40}",
             "brand": f"b{i % 300}"} for i in range(10_000)]
    S = content_similarity(ItemFeatures.from_rows(rows), 10)
    assert S.shape == (10_000, 10_000) and S.nnz <= 10_000 * 10
    assert np.diff(S.indptr).min() == 10  # every item has neighbours (its category at least)


def interactions(rows):
    cfg = load_config()
    u, i, e = zip(*rows)
    return Interactions.from_records(u, i, np.arange(len(rows), dtype=float) * 3600, e, cfg,
                                     categories=["Tea"] * len(rows)), cfg


def test_with_catalogue_appends_new_items_and_keeps_indices():
    inter, _ = interactions([("a", "tea-1", "view"), ("a", "mug", "purchase"), ("b", "tea-2", "purchase")])
    merged = with_catalogue(inter, ItemFeatures.from_rows(ITEMS))
    assert list(merged.item_ids[:inter.n_items]) == list(inter.item_ids)
    assert set(merged.item_ids[inter.n_items:]) == {"tea-new", "cup", "boots"}
    assert (merged.items == inter.items).all()
    cats = dict(zip(merged.item_ids, merged.item_category))
    assert cats["tea-1"] == "Tea" and cats["boots"] == "Outdoor > Footwear"
    assert merged.item_features.title[list(merged.item_ids).index("boots")] == "Walking boots"
    assert with_catalogue(inter, None) is inter


def test_a_new_item_is_recommended_to_whoever_viewed_similar_items():
    inter, cfg = interactions([("a", "tea-1", "view"), ("a", "tea-2", "view"), ("b", "mug", "view"),
                               ("b", "cup", "purchase"), ("c", "boots", "purchase")])
    data = TrainData.build(with_catalogue(inter, ItemFeatures.from_rows(ITEMS)), cfg)
    ranker = Content().fit(data)
    users = np.array([list(data.inter.user_ids).index("a")])
    items, _ = ranker.recommend(users, 1, exclude=data.seen[users] + data.X[users])
    assert data.inter.item_ids[items[0][0]] == "tea-new"  # nobody has seen it yet


def test_without_features_content_uses_categories():
    inter, cfg = interactions([("a", "tea-1", "view"), ("b", "tea-2", "purchase"), ("b", "mug", "view")])
    r = Content().fit(TrainData.build(inter, cfg))
    assert r.S.nnz == 6  # three items in one category: each is similar to the other two


def test_train_with_items_stores_content_neighbours_for_new_items(tmp_path, synthetic_csv, synthetic_items):
    items = synthetic_items + [{"item_id": "brand-new", "title": synthetic_items[0]["title"],
                                "description": synthetic_items[0]["description"],
                                "category": synthetic_items[0]["category"], "brand": synthetic_items[0]["brand"],
                                "attributes": synthetic_items[0]["attributes"]}]
    items_csv = tmp_path / "items.csv"
    write_items_csv(items_csv, items)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"time_budget_seconds": 2, "max_validation_users": 100}))
    out = tmp_path / "model"
    assert main(["train", "--interactions", str(synthetic_csv), "--items", str(items_csv), "--out", str(out),
                 "--config", str(cfg)]) == 0
    meta = json.loads((out / "model.json").read_text())
    assert "content" in meta["lists"] and "brand-new" in meta["item_ids"]
    assert any(r["spec"]["kind"] == "content" for r in meta["tuning"]["validation"])
    with np.load(out / "lists.npz", allow_pickle=False) as npz:  # stored without pickle
        assert "content@data" in npz.files
    model = artifact.load(out)
    assert model.similar("brand-new", 5, kind="content")[0] == synthetic_items[0]["item_id"]
    assert model.similar("brand-new", 5, kind="similar_viewed") == []  # nobody viewed it
    assert model.item_category[list(model.item_ids).index("brand-new")] == synthetic_items[0]["category"]


@pytest.mark.parametrize("text,message", [
    (None, "items file not found"),
    ("", "the file is empty"),
    ("sku,title\n1,Tea\n", "missing column item_id (have: sku, title)"),
    ("item_id\n1\n", "no feature columns"),
    ("item_id,title\n", "no items (header but no rows)"),
    ("item_id,title\n1,Tea\n1,Coffee\n", "line 3: item '1' appears twice"),
    ("item_id,title,brand\n1,Tea\n", "line 2: expected 3 fields, got 2"),
    ("item_id,title,title\n1,Tea,Tea\n", "duplicate column names"),
])
def test_bad_items_file_is_one_clear_error(capsys, tmp_path, synthetic_csv, text, message):
    path = tmp_path / "items.csv"
    if text is not None:
        path.write_text(text)
    code = main(["train", "--interactions", str(synthetic_csv), "--items", str(path), "--out", str(tmp_path / "m")])
    assert code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_items_csv_columns_beyond_the_known_ones_are_attributes(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("item_id,title,colour,size\n1,Tea,green,\n")
    f = load_items_csv(path)
    assert f.attributes == [{"colour": "green"}] and f.brand == [""] and f.title == ["Tea"]
