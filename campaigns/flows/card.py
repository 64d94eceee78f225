"""The customer card's "Flows" tab (registered in ECRM_CARD_TABS by the shop): where the
customer is in each flow — the step they wait for and when it runs, held out, completed,
or why they left — with the steps done so far."""

from campaigns.flow_models import FlowEnrolment


def flows_tab(profile, request) -> dict:
    enrolments = list(FlowEnrolment.objects.filter(person_key=profile.person_key)
                      .select_related("flow", "step").order_by("-enrolled_at")[:100])
    return {"flow_enrolments": enrolments}


flows_tab.name = "flows"
flows_tab.label = "Flows"
flows_tab.template_name = "campaigns/flows/card_tab.html"
