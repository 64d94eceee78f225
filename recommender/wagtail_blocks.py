"""A Wagtail StreamField block that marketers place on pages: a recommendation slot for
whoever is looking at the page, rendered with the same template tag and slot partial as
the storefront (so impressions, tokens and A/B arms work the same way).

Only imported by a project that uses Wagtail; the recommender itself does not need it."""

from __future__ import annotations

from wagtail import blocks

from recommender.slots import ORDER_SLOTS, PERSON_SLOTS, PRODUCT_SLOTS, SLOTS  # a page has no product, no order


def page_slot_choices() -> list[tuple[str, str]]:
    """The slots a page without a product can show (read when the form is built, so slots
    added to serving later appear without a migration)."""
    return [(slot, slot.replace("_", " ").capitalize()) for slot in SLOTS
            if slot not in PRODUCT_SLOTS + ORDER_SLOTS]


class RecommendationsBlock(blocks.StructBlock):
    slot = blocks.ChoiceBlock(choices=page_slot_choices, default="for_you",
                              help_text="For you: the visitor's own mix of buying again and discovery; "
                                        "Discover: only products they never bought. Visitors the "
                                        "store does not know yet see what is popular.")
    heading = blocks.CharBlock(max_length=120, default="Recommended for you")
    count = blocks.IntegerBlock(min_value=1, max_value=24, default=4)

    def is_personal(self, value) -> bool:
        """Whether it differs per visitor (a page shared by anonymous visitors defers it)."""
        return value["slot"] in PERSON_SLOTS

    class Meta:
        template = "recommender/blocks/recommendations.html"
        icon = "pick"
        label = "Recommendations"
