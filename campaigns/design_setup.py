"""Starter e-mail designs, created after ``migrate`` so a new store (and the demo) has
something to send and to edit: a gift guide for broadcasts, a basket reminder and a thank-you
for flows. A design that exists (by slug) is never touched: marketers' edits stay."""

from __future__ import annotations

from django.db import transaction

STARTERS = [
    {
        "name": "Gift guide", "slug": "gift-guide",
        "subject": '{{ customer.first_name|default:"Hello" }}, your gift guide is here',
        "preheader": "Ideas picked for you, and what everyone is buying this season.",
        "body": [
            {"type": "text", "value": "<h2>Gifts they will actually use</h2>"
             "<p>Hi {{ customer.first_name|default:\"there\" }}, we looked at what you like and picked a few "
             "ideas for the people on your list.</p>"},
            {"type": "recommendations", "value": {"heading": "Picked for you", "slot": "for_you", "count": 4,
                                                  "columns": 2}},
            {"type": "spacer", "value": {"height": 16, "line": True}},
            {"type": "product_grid", "value": {"heading": "Popular this season", "source": "popular",
                                               "products": [], "category": None, "count": 4, "columns": 2}},
            {"type": "button", "value": {"text": "See the whole catalogue", "link": "/catalogue/",
                                         "colour": "#222222", "align": "center"}},
        ],
    },
    {
        "name": "Your basket is waiting", "slug": "basket-reminder",
        "subject": "{{ customer.first_name|default:\"Hi\" }}, you left something in your basket",
        "preheader": "Your basket is saved: pick up where you left off.",
        "body": [
            {"type": "text", "value": "<p>Hi {{ customer.first_name|default:\"there\" }}, the things you chose "
             "are still in your basket.</p>"},
            {"type": "product_grid", "value": {"heading": "In your basket", "source": "message", "products": [],
                                               "category": None, "count": 6, "columns": 3}},
            {"type": "voucher", "value": {"heading": "A little something to help you decide",
                                          "text": "Use this code at checkout."}},
            {"type": "button", "value": {"text": "Go to my basket", "link": "/basket/", "colour": "#0b5cad",
                                         "align": "center"}},
            {"type": "recommendations", "value": {"heading": "You may also like", "slot": "bought_together",
                                                  "count": 2, "columns": 2}},
        ],
    },
    {
        "name": "Thank you for your order", "slug": "order-thanks",
        "subject": "Thank you for your order{% if order %} {{ order.number }}{% endif %}",
        "preheader": "What you bought, and a few things that go with it.",
        "body": [
            {"type": "text", "value": "<p>Hi {{ customer.first_name|default:\"there\" }}, thank you for shopping "
             "with us. We hope you enjoy your order.</p>"},
            {"type": "order_summary", "value": {"heading": "Your order", "show_status": True}},
            {"type": "recommendations", "value": {"heading": "Goes well with it", "slot": "for_you", "count": 4,
                                                  "columns": 2}},
        ],
    },
]


@transaction.atomic
def starter_designs_ensure() -> list:
    """Create (and publish) each starter design whose slug is free; the ones created."""
    from campaigns.designs_models import EmailDesign

    created = []
    for spec in STARTERS:
        if EmailDesign.objects.filter(slug=spec["slug"]).exists():
            continue
        design = EmailDesign(**spec)
        design.full_clean()
        design.save()
        design.save_revision().publish()
        created.append(design)
    return created


def starter_designs_after_migrate(sender, **kwargs) -> None:
    starter_designs_ensure()
