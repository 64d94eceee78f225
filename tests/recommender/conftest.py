"""The recommender's fixtures: the tiny hand-written CSV and a small deterministic synthetic
shop (the Oscar shop with history, ``shop``, and ``isolated`` are in tests/conftest.py)."""

from pathlib import Path

import pytest

from recommender.config import load_config
from recommender.data import Interactions, TrainData, parse_timestamp
from recommender.items import ItemFeatures, with_catalogue
from recommender.synthetic import generate, item_catalogue, write_csv

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def config():
    return load_config(overrides={"time_budget_seconds": 5.0})


@pytest.fixture
def tiny_csv():
    return FIXTURES / "tiny.csv"


@pytest.fixture(scope="session")
def synthetic_rows():
    return generate(n_users=150, n_items=120, n_categories=5, seed=3)


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory, synthetic_rows):
    path = tmp_path_factory.mktemp("syn") / "shop.csv"
    write_csv(path, synthetic_rows)
    return path


@pytest.fixture(scope="session")
def synthetic_items():
    """The synthetic shop's catalogue (title, description, category, brand, attributes)."""
    return item_catalogue(n_items=120, n_categories=5, seed=3)


@pytest.fixture(scope="session")
def synthetic(synthetic_rows, synthetic_items):
    cfg = load_config()
    u, i, t, e, c = zip(*synthetic_rows)
    inter = Interactions.from_records(u, i, [parse_timestamp(x) for x in t], e, cfg, categories=c)
    return TrainData.build(with_catalogue(inter, ItemFeatures.from_rows(synthetic_items)), cfg)
