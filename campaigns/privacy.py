"""Campaigns' share of a customer's data export and erasure (ecrm's ECRM_PERSONAL_DATA):
the messages sent or queued to them, their frequency and pause choices, and suppressions of
their addresses. All of it goes on erasure: after it there is no account or profile left
to e-mail, and a suppression would keep the address."""

from __future__ import annotations

from django.db.models import Q

from campaigns.models import (ContactPreference, FlowEnrolment, HoldoutMember, Message, MessageClick, MessageOpen,
                               Occasion, PersonalVoucher, Suppression)

MESSAGE_FIELDS = ["key", "kind", "topic", "to_email", "template", "status", "created_at", "due_at",
                  "sent_at", "subject", "body_text", "delivery_event"]


def _occasions(person):
    scope = Q(person_key__in=person.users)
    if person.user:
        scope |= Q(user=person.user)
    return Occasion.objects.filter(scope)


def _engagement(model, person):
    """Opens or clicks of the person's messages (by person key, or through the message)."""
    return model.objects.filter(Q(person_key__in=person.users) | Q(message__in=_messages(person)))


def _messages(person):
    scope = Q(person_key__in=person.users)
    for email in person.emails:
        scope |= Q(to_email__iexact=email)
    if person.user:
        scope |= Q(user=person.user)
    return Message.objects.filter(scope)


class _PersonalData:
    def export(self, person) -> dict:
        return {
            "campaign_messages.json": list(_messages(person).order_by("created_at").values(*MESSAGE_FIELDS)),
            "campaign_preferences.json": list(ContactPreference.objects.filter(person_key__in=person.users)
                                              .values("frequency", "paused_until", "updated_at")),
            "suppressions.json": list(Suppression.objects.filter(email__in=person.emails)
                                      .values("email", "reason", "detail", "created_at")),
            "campaign_holdouts.json": list(HoldoutMember.objects.filter(person_key__in=person.users)
                                           .values("campaign", "window", "at")),
            "flow_enrolments.json": list(FlowEnrolment.objects.filter(person_key__in=person.users)
                                         .order_by("enrolled_at").values(
                                             "flow__name", "window", "context", "status", "held_out", "enrolled_at",
                                             "next_run_at", "exited_because", "finished_at", "history")),
            "flow_vouchers.json": list(PersonalVoucher.objects.filter(person_key__in=person.users)
                                       .values("voucher__code", "voucher__end_datetime", "created_at")),
            "gift_occasions.json": list(_occasions(person).values("recipient", "kind", "month", "day", "note",
                                                                  "order__number", "created_at")),
            "campaign_opens.json": list(_engagement(MessageOpen, person).order_by("at")
                                        .values("message__key", "campaign", "at", "automated")),
            "campaign_clicks.json": list(_engagement(MessageClick, person).order_by("at")
                                         .values("message__key", "campaign", "url", "at", "automated")),
        }

    def plan(self, person) -> dict:
        return {"campaign messages": _messages(person).count(),
                "campaign preferences": ContactPreference.objects.filter(person_key__in=person.users).count(),
                "suppressed addresses": Suppression.objects.filter(email__in=person.emails).count(),
                "campaign holdouts": HoldoutMember.objects.filter(person_key__in=person.users).count(),
                "flow enrolments": FlowEnrolment.objects.filter(person_key__in=person.users).count(),
                "personal vouchers": PersonalVoucher.objects.filter(person_key__in=person.users).count(),
                "gift occasions": _occasions(person).count(),
                "campaign opens": _engagement(MessageOpen, person).count(),
                "campaign clicks": _engagement(MessageClick, person).count()}

    def erase(self, person) -> dict:
        # Opens and clicks first: they would go with their messages, but are counted apart.
        engagement = {"campaigns.MessageOpen": _engagement(MessageOpen, person).delete()[0],
                      "campaigns.MessageClick": _engagement(MessageClick, person).delete()[0]}
        return {**engagement, "campaigns.Message": _messages(person).delete()[0],
                "campaigns.ContactPreference": ContactPreference.objects.filter(person_key__in=person.users).delete()[0],
                "campaigns.Suppression": Suppression.objects.filter(email__in=person.emails).delete()[0],
                "campaigns.HoldoutMember": HoldoutMember.objects.filter(person_key__in=person.users).delete()[0],
                "campaigns.FlowEnrolment": FlowEnrolment.objects.filter(person_key__in=person.users).delete()[0],
                # The voucher's link to the customer goes; an unused code no longer works for anyone
                # (PersonalVoucherCondition), and a used one stays in the order's history.
                "campaigns.PersonalVoucher": PersonalVoucher.objects.filter(person_key__in=person.users).delete()[0],
                "campaigns.Occasion": _occasions(person).delete()[0]}


personal_data = _PersonalData()
