"""Generate the demo catalogue and customers as plain data (no ORM).

Every entity draws from its own random stream, ``Random(f"{seed}:kind:{i}")``,
so product ``i`` or customer ``i`` is the same whatever the totals asked for:
a re-run with more customers adds new ones and leaves the old ones alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

from shop.demo.catalogue_data import (
    ADJECTIVES, CITIES, COLOURS, FIRST_NAMES, LAST_NAMES, LEAF_DETAILS, LEAVES,
    PREMIUM_BRANDS, SIZES, STREETS,
)

OUT_OF_STOCK_SHARE = 0.08


@dataclass(frozen=True)
class ProductSpec:
    index: int
    upc: str
    title: str
    description: str
    root: str
    leaf: str
    brand: str
    attributes: dict
    price: Decimal
    stock: int  # units available to sell once the simulation is over; 0 = out of stock
    reorder_days: int | None  # consumables: typical days between purchases

    @property
    def category_path(self) -> str:
        return f"{self.root} > {self.leaf}"

    @property
    def in_stock(self) -> bool:
        return self.stock > 0


@dataclass(frozen=True)
class CustomerSpec:
    index: int
    email: str
    first_name: str
    last_name: str
    line1: str
    city: str
    postcode: str
    phone: str
    signup_day: int  # days after the start of the simulated period (negative: before it)
    leaf_weights: dict  # leaf name -> preference weight (sums to 1)
    brand_weights: dict  # brand -> multiplier (> 1 for favourites)
    price_sensitivity: float  # 0 = indifferent to price, 1 = buys the cheapest
    visits_per_week: float
    buy_propensity: float  # chance that a session with a basket ends in an order
    staples: tuple = field(default=())  # (product index, reorder days) bought again and again


def _gamma_weights(rng: random.Random, keys: list, concentration: float) -> dict:
    raw = [rng.gammavariate(concentration, 1.0) for _ in keys]
    total = sum(raw) or 1.0
    return {key: value / total for key, value in zip(keys, raw)}


def generate_product(seed: int, index: int) -> ProductSpec:
    rng = random.Random(f"{seed}:product:{index}")
    root, leaf, nouns, brands, (low, high), reorder = LEAVES[index % len(LEAVES)]
    brand = rng.choice(brands)
    noun = rng.choice(nouns)
    adjective = rng.choice(ADJECTIVES)
    materials, features = LEAF_DETAILS[leaf]
    material = rng.choice(materials)
    colour = rng.choice(COLOURS)
    size = rng.choice(SIZES)
    features = rng.sample(features, 2)
    title = f"{brand} {adjective} {noun.title() if noun[0].islower() else noun} ({size})"
    colour_text = "" if reorder else f"; colour {colour}"  # consumables come in no colours
    description = (
        f"The {adjective.lower()} {noun} from {brand}: {material}{colour_text}. "
        f"{features[0].capitalize()}, {features[1]}. "
        f"A {leaf.lower()} favourite for anyone who loves {root.lower()} essentials."
    )
    position = rng.random() ** 1.6  # most products sit at the cheaper end of the band
    price = low + (high - low) * position
    if brand in PREMIUM_BRANDS:
        price *= 1.35
    price = Decimal(f"{max(1.5, round(price)) - 0.01:.2f}")
    stock = 0 if rng.random() < OUT_OF_STOCK_SHARE else rng.randint(5, 250)
    return ProductSpec(
        index=index, upc=f"DEMO{index:05d}", title=title, description=description,
        root=root, leaf=leaf, brand=brand,
        attributes={"brand": brand, "material": material, "size": size,
                    **({} if reorder else {"colour": colour})},
        price=price, stock=stock, reorder_days=reorder,
    )


def generate_catalogue(seed: int, count: int) -> list[ProductSpec]:
    """``count`` products; the first n are the same whatever the count."""
    catalogue, titles = [], set()
    for index in range(count):
        product = generate_product(seed, index)
        if product.title in titles:  # a second product of the same name: tell them apart
            detail = product.attributes.get("colour") or product.attributes["material"]
            title = f"{product.title}, {detail}"
            product = replace(product, title=title if title not in titles else f"{title} no. {index}")
        titles.add(product.title)
        catalogue.append(product)
    return catalogue


def generate_customer(seed: int, index: int, catalogue: list[ProductSpec], days: int) -> CustomerSpec:
    rng = random.Random(f"{seed}:customer:{index}")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postcode = rng.choice(CITIES)
    leaves = sorted({p.leaf for p in catalogue})
    favourite_leaves = rng.sample(leaves, rng.randint(2, 4))
    weights = _gamma_weights(rng, favourite_leaves, 1.0)
    # A little curiosity outside the favourites.
    leaf_weights = {leaf: 0.1 / len(leaves) for leaf in leaves}
    for leaf, weight in weights.items():
        leaf_weights[leaf] += 0.9 * weight
    brands = sorted({p.brand for p in catalogue if p.leaf in favourite_leaves})
    brand_weights = {brand: 1.0 + 4.0 * rng.random() ** 3 for brand in brands}
    kind = rng.random()
    if kind < 0.15:  # loyal regulars
        visits, propensity = rng.uniform(0.8, 2.0), rng.uniform(0.35, 0.6)
    elif kind < 0.65:  # occasional shoppers
        visits, propensity = rng.uniform(0.15, 0.6), rng.uniform(0.15, 0.35)
    else:  # browsers who rarely buy
        visits, propensity = rng.uniform(0.05, 0.3), rng.uniform(0.03, 0.15)
    staples = ()
    consumables = [p for p in catalogue if p.reorder_days and p.in_stock and p.leaf in favourite_leaves]
    if consumables and rng.random() < 0.6:
        picks = rng.sample(consumables, min(len(consumables), rng.randint(1, 2)))
        staples = tuple(
            (p.index, max(7, int(p.reorder_days * rng.uniform(0.7, 1.3)))) for p in picks
        )
    signup = rng.randint(-days, days - 1) if rng.random() < 0.35 else rng.randint(0, days - 1)
    return CustomerSpec(
        index=index,
        email=f"{first}.{last}.{index}@customers.example".lower(),
        first_name=first, last_name=last,
        line1=f"{rng.randint(1, 180)} {rng.choice(STREETS)}", city=city, postcode=postcode,
        phone=f"+447700{rng.randint(900000, 900999)}",
        signup_day=min(signup, days - 1),
        leaf_weights=leaf_weights, brand_weights=brand_weights,
        price_sensitivity=rng.random(), visits_per_week=visits, buy_propensity=propensity,
        staples=staples,
    )
