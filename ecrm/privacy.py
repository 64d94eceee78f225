"""Data-subject rights: everything held on one customer as a ZIP archive (access and
portability), and their erasure (the right to be forgotten).

Both work from the same picture of the person (``person_identities``): their user ids,
aliases and guest keys, the anonymous ids linked to any of them, and their e-mail
addresses. The export reads what the erasure removes, so what a customer is shown is
what is forgotten.

What erasure keeps, and why:

* Orders, their lines, totals, statuses and payment events stay (book-keeping and tax
  law require them), detached from the account: ``guest_email`` and the shipping and
  billing addresses are blanked (the country stays, for tax), staff's order notes have
  their text replaced (they often quote a phone number or an address).
* Events and sessions stay for the shop's statistics, de-identified: they move to one
  random visitor id (``erased-<hex>``) with no user id, so no rebuild can give them a
  profile again; IP addresses, user agents, traits, e-mail/phone/name keys and URL
  query strings are removed, and the customer's e-mail, phone and name are replaced
  wherever else they appear in the events' JSON.
* Product reviews stay (they are part of the products' ratings) under the name
  "A former customer", without user or e-mail.
* The consent ledger goes with the profile: with no e-mail address left there is
  nobody to contact, and the audit log's ERASE entry is the record that we forgot them.
  The audit log keeps its rows, with the person key replaced by a hash and note text
  removed.

Everything else is deleted: the account (with what Oscar ties to it: baskets,
addresses, wishlists, alerts, searches, product views, e-mails, notifications),
the profile with its notes, tags, consents and segment memberships, identity links,
quarantined messages that name the person, and the admin log about the account. Once the
erasure has committed, ``ECRM_PERSONAL_DATA`` providers forget what their apps keep outside
the database (the recommender's recent activity and lists in Redis).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
import zipfile
from urllib.parse import quote
from collections import Counter
from dataclasses import dataclass
from functools import partial

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.utils.module_loading import import_string
from oscar.core.loading import get_model

from ecrm.api.serializers import ConsentSerializer, ProfileSerializer
from ecrm.defaults import setting
from ecrm.customer_orders import customer_orders_refresh
from ecrm.models import CustomerOrder, NotADuplicate, Profile, ProfileAccess, ProfileMerge, ProfileRefresh, Segment
from ecrm.selectors import customer_orders
from ecrm.services import identities_of
from tracking.consumer import lock_visitors
from tracking.models import Event, IdentityLink, QuarantinedEvent, Session

Order = get_model("order", "Order")
OrderNote = get_model("order", "OrderNote")
ShippingAddress = get_model("order", "ShippingAddress")
BillingAddress = get_model("order", "BillingAddress")
UserAddress = get_model("address", "UserAddress")
Basket = get_model("basket", "Basket")
UserSearch = get_model("analytics", "UserSearch")
UserProductView = get_model("analytics", "UserProductView")
UserRecord = get_model("analytics", "UserRecord")
ProductAlert = get_model("customer", "ProductAlert")
ProductReview = get_model("reviews", "ProductReview")
WishList = get_model("wishlists", "WishList")
WishListSharedEmail = get_model("wishlists", "WishListSharedEmail")
Email = get_model("communication", "Email")
Notification = get_model("communication", "Notification")

ERASED = "[erased]"
FORMER_CUSTOMER = "A former customer"
ADDRESS_FIELDS = ["title", "first_name", "last_name", "line1", "line2", "line3", "line4", "state",
                  "postcode", "search_text"]
# JSON keys whose values are personal wherever they appear in an event (compared lower-case,
# without "_"): "name" is not among them, as products and pages have names too.
PERSONAL_KEYS = {"email", "phone", "ip", "useragent", "firstname", "lastname", "username", "traits",
                 "address", "street", "postcode", "postalcode", "birthday", "search"}
URL_START = re.compile(r"^(https?://|/|\?)", re.IGNORECASE)


class PrivacyError(ValueError):
    """A request that must not be carried out; the text says why."""


@dataclass
class Person:
    """Everything that identifies one customer in our tables."""

    profile: Profile
    users: set[str]  # person key, aliases, guest keys (as tracking stores user ids)
    anonymous: set[str]  # visitor ids linked to any of them
    emails: set[str]  # lower-case
    user: object | None  # the Django account, if any

    def events(self):
        return Event.objects.filter(Q(user_id__in=self.users) | Q(anonymous_id__in=self.anonymous))

    def sessions(self):
        return Session.objects.filter(Q(user_id__in=self.users) | Q(visitor__in=self.users | self.anonymous))

    def owned(self, model, *, user_field="user", email_field="email"):
        """Rows of an Oscar model tied to the account or (if the model has one) an e-mail."""
        scope = Q(**{user_field: self.user}) if self.user else Q(pk__in=[])
        for email in self.emails if email_field else ():
            scope |= Q(**{f"{email_field}__iexact": email})
        return model.objects.filter(scope)

    def secrets(self) -> list[str]:
        """Strings to blank wherever they appear: e-mails (URL-encoded too), phones, full and
        last names, longest first. A first name alone is left: it is in too many words."""
        profile = self.profile
        values = {*self.emails, *(quote(e, safe="") for e in self.emails), profile.phone, profile.name,
                  profile.last_name}
        if self.user:
            values |= {self.user.get_full_name(), self.user.last_name}
        return sorted((v for v in values if v and len(v) >= 3), key=len, reverse=True)


def person_identities(profile: Profile) -> Person:
    """``identities_of`` plus the visitors linked to an alias, so no event escapes."""
    ids = identities_of({profile.person_key})[profile.person_key]
    anonymous = set(ids.anonymous) | set(IdentityLink.objects.filter(
        kind=IdentityLink.ANONYMOUS, user_id__in=ids.users).values_list("identifier", flat=True))
    emails = {e.lower() for e in (*ids.emails, profile.email, getattr(profile.user, "email", "")) if e}
    return Person(profile=profile, users=set(ids.users), anonymous=anonymous, emails=emails,
                  user=profile.user)


# --- Export ---------------------------------------------------------------------------

README = """Everything {shop} holds on you, as JSON files (UTF-8).

profile.json     your customer profile: contact details and what we computed from your activity
orders.json      your orders with their lines, addresses, status changes and notes
events.json      what our tracking recorded of your visits (pages, products, baskets, orders)
sessions.json    your visits: when, where from, how many pages
consents.json    every consent you gave or withdrew, when and where (the whole ledger)
notes.json       what our staff wrote about you
segments.json    the customer groups you were in, with the dates you joined and left
addresses.json   the addresses in your account's address book
baskets.json     your baskets and their lines
searches.json    your searches on our site
product_views.json  the products you looked at while signed in
user_record.json    the counters kept on your account
reviews.json     your product reviews
alerts.json      your back-in-stock alerts
wishlists.json   your wishlists and what is in them
emails.json      the e-mails we sent you
notifications.json  the messages in your account's inbox
"""


class _Encoder(DjangoJSONEncoder):
    """Django's encoder, plus whatever else a column holds (phone numbers) as text."""

    def default(self, o):
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _rows(queryset) -> list[dict]:
    return list(queryset.values())


def _orders(person: Person) -> list[dict]:
    orders = []
    for order in customer_orders(person.profile).select_related("shipping_address", "billing_address"):
        data = Order.objects.filter(pk=order.pk).values().get()
        data.update(
            lines=_rows(order.lines.all()), status_changes=_rows(order.status_changes.all()),
            notes=_rows(order.notes.all()),
            shipping_address=_rows(ShippingAddress.objects.filter(pk=order.shipping_address_id)),
            billing_address=_rows(BillingAddress.objects.filter(pk=order.billing_address_id)))
        orders.append(data)
    return orders


def export_files(person: Person) -> dict[str, object]:
    """The archive's files as data, name -> JSON-able value."""
    profile, user = person.profile, person.user
    owner = {"owner": user} if user else {"pk__in": []}
    return {
        "profile.json": ProfileSerializer(profile).data,
        "orders.json": _orders(person),
        "events.json": _rows(person.events().order_by("timestamp")),
        "sessions.json": _rows(person.sessions().order_by("started_at")),
        "consents.json": ConsentSerializer(profile.consents.all(), many=True).data,
        "notes.json": [{"text": n.text, "created_at": n.created_at, "author": str(n.author or "")}
                       for n in profile.notes.select_related("author")],
        "segments.json": list(profile.memberships.values("segment__name", "joined_at", "left_at")),
        "addresses.json": _rows(person.owned(UserAddress, email_field=None)),
        "baskets.json": [{**b, "lines": _rows(Basket.objects.get(pk=b["id"]).lines.all())}
                         for b in _rows(Basket.objects.filter(**owner))],
        "searches.json": _rows(person.owned(UserSearch, email_field=None)),
        "product_views.json": _rows(person.owned(UserProductView, email_field=None)),
        "user_record.json": _rows(person.owned(UserRecord, email_field=None)),
        "reviews.json": _rows(person.owned(ProductReview)),
        "alerts.json": _rows(person.owned(ProductAlert)),
        "wishlists.json": [{**w, "lines": _rows(WishList.objects.get(pk=w["id"]).lines.all())}
                           for w in _rows(WishList.objects.filter(**owner))],
        "emails.json": _rows(person.owned(Email)),
        "notifications.json": _rows(person.owned(Notification, user_field="recipient", email_field=None)),
        **{name: data for provider in _providers() for name, data in provider.export(person).items()},
    }


def _providers() -> list:
    """Other apps' personal data (ECRM_PERSONAL_DATA)."""
    return [import_string(path) for path in setting("ECRM_PERSONAL_DATA")]


def customer_export(profile: Profile) -> bytes:
    """A ZIP archive of everything held on this customer (built in memory: one person's
    data is small enough)."""
    from django.conf import settings

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(shop=getattr(settings, "OSCAR_SHOP_NAME", "the shop")))
        for name, data in export_files(person_identities(profile)).items():
            archive.writestr(name, json.dumps(data, cls=_Encoder, indent=2, ensure_ascii=False))
    return buffer.getvalue()


# --- Erasure ----------------------------------------------------------------------------

def scrub(value, secrets: list[str]):
    """A copy of a JSON value without personal keys, URL query strings or the secrets."""
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()
                if k.replace("_", "").lower() not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        if URL_START.match(value):
            value = value.split("#")[0].split("?")[0]
        for secret in secrets:
            value = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", ERASED, value, flags=re.IGNORECASE)
    return value


def person_key_hash(person_key: str) -> str:
    """What the audit log keeps of an erased person: enough to answer "was this person
    erased?" when asked with their key, nothing that reads as them."""
    return "erased:" + hashlib.sha256(person_key.encode()).hexdigest()[:32]


def erasure_plan(profile: Profile) -> dict[str, int]:
    """What ``customer_erase`` would remove or scrub, counted, without changing anything."""
    person = person_identities(profile)
    owner = {"owner": person.user} if person.user else {"pk__in": []}
    return {
        "orders (kept, personal fields scrubbed)": customer_orders(profile).count(),
        "events (de-identified)": person.events().count(),
        "sessions (de-identified)": person.sessions().count(),
        "identity links": _links(person).count(),
        "consents": profile.consents.count(),
        "notes": profile.notes.count(),
        "segment memberships": profile.memberships.count(),
        "addresses": person.owned(UserAddress, email_field=None).count(),
        "baskets": Basket.objects.filter(**owner).count(),
        "reviews (kept, anonymised)": person.owned(ProductReview).count(),
        "alerts": person.owned(ProductAlert).count(),
        "e-mails": person.owned(Email).count(),
        **{label: n for provider in _providers() for label, n in provider.plan(person).items()},
        "account": 1 if person.user else 0,
    }


def _links(person: Person):
    return IdentityLink.objects.filter(
        Q(user_id__in=person.users) | Q(kind=IdentityLink.EMAIL, identifier__in=person.emails)
        | Q(kind=IdentityLink.ANONYMOUS, identifier__in=person.anonymous))


def _deidentify_events(person: Person, pseudonym: str, secrets: list[str]) -> int:
    changed = []
    for event in person.events().only("pk", "context", "properties"):
        event.user_id, event.anonymous_id, event.traits = "", pseudonym, {}
        event.context, event.properties = scrub(event.context, secrets), scrub(event.properties, secrets)
        changed.append(event)
    Event.objects.bulk_update(changed, ["user_id", "anonymous_id", "traits", "context", "properties"],
                              batch_size=500)
    return len(changed)


def _deidentify_sessions(person: Person, pseudonym: str, secrets: list[str]) -> int:
    sessions = list(person.sessions().only("pk", "entry_path", "search_terms"))
    for session in sessions:
        session.visitor, session.user_id = pseudonym, ""
        session.entry_path, session.search_terms = scrub(session.entry_path, secrets), scrub(
            session.search_terms, secrets)
    Session.objects.bulk_update(sessions, ["visitor", "user_id", "entry_path", "search_terms"], batch_size=500)
    return len(sessions)


def _scrub_orders(profile: Profile, counts: Counter) -> None:
    orders = list(customer_orders(profile).values_list("pk", flat=True))
    counts["order.Order"] = Order.objects.filter(pk__in=orders).update(guest_email="")
    blank = dict.fromkeys(ADDRESS_FIELDS, "")
    counts["order.ShippingAddress"] = ShippingAddress.objects.filter(order__in=orders).update(
        **blank, phone_number="", notes="")
    counts["order.BillingAddress"] = BillingAddress.objects.filter(order__in=orders).update(**blank)
    counts["order.OrderNote"] = OrderNote.objects.filter(order__in=orders).update(message=ERASED)


def _quarantined(person: Person):
    """Quarantined messages naming the person: an id as a whole JSON string, or an e-mail."""
    mentions = Q(pk__in=[])
    for identifier in person.users | person.anonymous:
        mentions |= Q(text__contains=json.dumps(identifier))
    for email in person.emails:
        mentions |= Q(text__icontains=email)
    return QuarantinedEvent.objects.annotate(text=Cast("payload", TextField())).filter(mentions)


def _delete_account(person: Person, counts: Counter) -> None:
    user = person.user
    counts["reviews.ProductReview"] = person.owned(ProductReview).update(
        user=None, name=FORMER_CUSTOMER, email="")
    for model in (ProductAlert, Email):  # the rows not tied to the account go by e-mail
        counts[model._meta.label] += person.owned(model).delete()[0]
    shared = WishListSharedEmail.objects.filter(email__in=person.emails)
    counts[WishListSharedEmail._meta.label] += shared.delete()[0]
    if user is None:
        return
    counts["admin.LogEntry"] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk)).delete()[0]
    counts.update(user.delete()[1])


@transaction.atomic
def customer_erase(profile: Profile, *, staff) -> dict[str, int]:
    """Erase one customer everywhere (one transaction: all or nothing); returns the rows
    deleted or changed per table. The ERASE entry of the audit log names the staff member
    and the hash of the person key, never the e-mail."""
    if profile.user and (profile.user.is_staff or profile.user.is_superuser):
        raise PrivacyError("This customer is a member of staff: remove their staff status first.")
    person = person_identities(profile)
    # Wait for (and then hold off) the tracking consumer storing this person's events: an
    # event written alongside the erasure would otherwise keep their identity.
    lock_visitors(person.anonymous | person.users)
    person = person_identities(profile)  # links stored while we waited count too
    secrets, pseudonym = person.secrets(), f"erased-{uuid.uuid4().hex}"
    key_hash = person_key_hash(profile.person_key)
    counts: Counter = Counter()
    orders = set(customer_orders(profile).values_list("pk", flat=True)) | set(
        CustomerOrder.objects.filter(person__in=person.users).values_list("order_id", flat=True))
    _scrub_orders(profile, counts)
    counts["tracking.Event"] = _deidentify_events(person, pseudonym, secrets)
    counts["tracking.Session"] = _deidentify_sessions(person, pseudonym, secrets)
    counts["tracking.IdentityLink"] = _links(person).delete()[0]
    counts["tracking.QuarantinedEvent"] = QuarantinedEvent.objects.filter(
        pk__in=_quarantined(person).values("pk")).delete()[0]
    counts["ecrm.ProfileRefresh"] = ProfileRefresh.objects.filter(person_key__in=person.users).delete()[0]
    accesses = ProfileAccess.objects.filter(Q(profile=profile) | Q(person_key__in=person.users))
    accesses.filter(action__in=[ProfileAccess.NOTE, ProfileAccess.MERGE]).update(detail="")
    counts["ecrm.ProfileAccess"] = accesses.update(person_key=key_hash)
    merges = ProfileMerge.objects.filter(Q(kept=profile) | Q(kept_key__in=person.users) | Q(removed_key__in=person.users))
    counts["ecrm.ProfileMerge"] = merges.update(kept_key=key_hash, removed_key=key_hash, removed_snapshot={})
    counts["ecrm.NotADuplicate"] = NotADuplicate.objects.filter(
        Q(first_key__in=person.users) | Q(second_key__in=person.users)).delete()[0]
    segments = set(profile.memberships.values_list("segment_id", flat=True))
    for provider in _providers():
        counts.update(provider.erase(person))
    _delete_account(person, counts)
    # Their orders stay one customer's, under the pseudonym their events moved to.
    customer_orders_refresh(order_ids=orders)
    counts.update(Profile.objects.filter(Q(pk=profile.pk) | Q(person_key__in=person.users)).delete()[1])
    for segment in Segment.objects.filter(pk__in=segments).annotate(
            current=Count("memberships", filter=Q(memberships__left_at=None))):
        Segment.objects.filter(pk=segment.pk).update(member_count=segment.current)
    ProfileAccess.objects.create(profile=None, person_key=key_hash, staff=staff, action=ProfileAccess.ERASE,
                                 detail=f"{sum(counts.values())} rows erased or scrubbed")
    for provider in _providers():  # what is kept outside the database goes once this commits
        if hasattr(provider, "forget"):
            transaction.on_commit(partial(provider.forget, person), robust=True)  # a failure is logged
    return {label: n for label, n in sorted(counts.items()) if n}

