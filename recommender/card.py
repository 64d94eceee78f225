"""The customer card's "Recommendations" tab (registered in ECRM_CARD_TABS by the shop)."""

from recommender.models import ModelVersion
from recommender.serving import recommendations_for


def recommendations_tab(profile, request) -> dict:
    """What the store would show this customer now, per slot, with where each item came from."""
    return {
        "for_you": recommendations_for(slot="for_you", person=profile.person_key, k=8),
        "discover": recommendations_for(slot="discover", person=profile.person_key, k=8),
        "buy_again": recommendations_for(slot="buy_again", person=profile.person_key, k=8),
        "serving": ModelVersion.objects.filter(status=ModelVersion.SERVING).first(),
    }


recommendations_tab.name = "recommendations"
recommendations_tab.label = "Recommendations"
recommendations_tab.template_name = "recommender/card_tab.html"
