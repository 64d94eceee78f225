"""One profile per known person: contact data and attributes computed from tracking's
events and sessions and Oscar's orders (``ecrm.services.profiles_refresh`` keeps them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase


class CustomerTag(TagBase):
    """Staff's labels for customers ("VIP", "wholesale"), kept apart from content tags."""

    class Meta:
        verbose_name = "customer tag"


class TaggedProfile(TaggedItemBase):
    content_object = models.ForeignKey("Profile", on_delete=models.CASCADE, related_name="tagged_items")
    tag = models.ForeignKey(CustomerTag, on_delete=models.CASCADE, related_name="tagged_profiles")


class Profile(models.Model):
    """A known person: a registered customer (``person_key`` is their user id, as tracking
    stores it) or a guest known by the e-mail of a checkout (``email:<address>``).

    Anonymous visitors have no profile of their own: their events and sessions stay in
    tracking and join a profile when the identity graph links them to a person.
    """

    person_key = models.CharField(max_length=254, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="ecrm_profile")
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    phone = models.CharField(max_length=40, blank=True, db_index=True,
                             help_text="digits only, with the country code's + if given")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    traits = models.JSONField(default=dict, blank=True, help_text="the latest identify traits")

    # Computed: kept current by the tracking consumer's batches, rebuilt by ecrm_rebuild_profiles.
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    session_count = models.PositiveIntegerField(default=0)
    product_views = models.PositiveIntegerField(default=0)
    basket_adds = models.PositiveIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    average_order_value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    last_order_at = models.DateTimeField(null=True, blank=True)
    favourite_categories = models.JSONField(default=list, blank=True)
    favourite_brands = models.JSONField(default=list, blank=True)
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    devices = models.JSONField(default=list, blank=True)
    region = models.CharField(max_length=200, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    # Scores (ecrm.scores): RFM quintiles and group; BG/NBD + Gamma-Gamma lifetime value.
    rfm_recency = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_frequency = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_monetary = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_group = models.CharField(max_length=30, blank=True, db_index=True)
    probability_alive = models.FloatField(null=True, blank=True)
    churn_risk = models.FloatField(null=True, blank=True, help_text="1 - probability alive")
    expected_purchases_90d = models.FloatField(null=True, blank=True)
    expected_purchases_365d = models.FloatField(null=True, blank=True)
    predicted_clv = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    expected_next_order_at = models.DateField(null=True, blank=True)
    scores_computed_at = models.DateTimeField(null=True, blank=True)
    tags = TaggableManager(through=TaggedProfile, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        permissions = [("tag_profile", "Can tag customers"),
                       ("merge_profile", "Can merge duplicate customers"),
                       ("export_profile", "Can download a customer's data"),
                       ("erase_profile", "Can erase a customer"),
                       ("view_customer_reports", "Can view customer reports (RFM, lifetime value)")]

    def __str__(self) -> str:
        return self.name or self.email or self.person_key

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_guest(self) -> bool:
        return self.person_key.startswith("email:")

    COMPUTED = ["first_seen_at", "last_seen_at", "session_count", "product_views", "basket_adds",
                "order_count", "revenue", "average_order_value", "last_order_at",
                "favourite_categories", "favourite_brands", "first_touch", "last_touch", "devices",
                "region"]


class ProfileRefresh(models.Model):
    """A person whose profile is behind their latest events: marked inside the tracking
    consumer's transaction (so no stored event goes unnoticed), cleared by the refresh task
    a few seconds later. Recomputing in the consumer itself would hold every batch up."""

    person_key = models.CharField(max_length=254, unique=True)
    marked_at = models.DateTimeField(auto_now_add=True)


class CustomerNote(models.Model):
    """What a member of staff wrote about a customer; shown on the card's timeline."""

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class Consent(models.Model):
    """One entry of a customer's consent ledger: given or withdrawn, for a channel and topic,
    when and from where. Append-only; the latest entry per (channel, topic) is in force."""

    EMAIL, SMS = "email", "sms"
    CHANNELS = [(EMAIL, "E-mail"), (SMS, "SMS")]
    ALL_TOPICS = "all"

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(max_length=10, choices=CHANNELS)
    topic = models.CharField(max_length=50, default=ALL_TOPICS,
                             help_text="what it covers: newsletter, offers, ... or all")
    granted = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=30, help_text="where it was given: checkout, account, api, staff, import")
    evidence = models.JSONField(default=dict, blank=True, help_text="page, IP (truncated), staff member")

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["profile", "channel", "topic", "-recorded_at"])]


class ProfileAccess(models.Model):
    """The audit log: which member of staff saw or changed which profile, and how."""

    VIEW, NOTE, TAG, CONSENT, EXPORT, ERASE, MERGE = "view", "note", "tag", "consent", "export", "erase", "merge"
    ACTIONS = [(VIEW, "viewed"), (NOTE, "added a note"), (TAG, "changed tags"), (CONSENT, "recorded consent"),
               (EXPORT, "exported"), (ERASE, "erased"), (MERGE, "merged")]

    profile = models.ForeignKey(Profile, null=True, on_delete=models.SET_NULL, related_name="accesses")
    person_key = models.CharField(max_length=254, help_text="kept when the profile is erased or merged")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=10, choices=ACTIONS)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]


class Segment(models.Model):
    """A group of customers: dynamic (rules, kept current) or static (uploaded, fixed)."""

    DYNAMIC, STATIC = "dynamic", "static"
    KINDS = [(DYNAMIC, "Dynamic (rules)"), (STATIC, "Static (uploaded list)")]

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=KINDS, default=DYNAMIC)
    rules = models.JSONField(default=dict, blank=True, help_text="see ecrm.segment_rules")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    member_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [("export_segment", "Can export segment members")]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """A stay in a segment: when the person joined and (once they no longer match) left.
    A person who matches again gets a new row, so campaigns can trigger on joining."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-joined_at"]
        constraints = [models.UniqueConstraint(fields=["segment", "profile"], condition=models.Q(left_at=None),
                                               name="ecrm_one_current_membership")]
        indexes = [models.Index(fields=["segment", "left_at"])]


class SegmentOffer(models.Model):
    """An Oscar offer limited to a segment: a "User offer" (Oscar's offer type for offers that
    code decides who gets) applies to the segment's current members only. The store's offer
    ``Applicator.get_user_offers`` asks ``ecrm.selectors.segment_offers_of`` (see shop/offer);
    a User offer with no segment applies to nobody."""

    offer = models.OneToOneField("offer.ConditionalOffer", on_delete=models.CASCADE, related_name="ecrm_segment")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="offers")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["offer__name"]

    def __str__(self) -> str:
        return f"{self.offer} → {self.segment}"


class ProfileMerge(models.Model):
    """Two profiles that staff found to be one person: the removed one's identities now
    point at the kept one (an alias in the identity graph), its records moved over."""

    kept = models.ForeignKey(Profile, null=True, on_delete=models.SET_NULL, related_name="merges")
    kept_key = models.CharField(max_length=254)
    removed_key = models.CharField(max_length=254, db_index=True)
    removed_snapshot = models.JSONField(default=dict, help_text="the removed profile's contact data")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)


class NotADuplicate(models.Model):
    """Staff said these two profiles are different people: stop suggesting them."""

    first_key = models.CharField(max_length=254)
    second_key = models.CharField(max_length=254)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first_key", "second_key"], name="ecrm_not_a_duplicate_once")]


class ScoreFit(models.Model):
    """A fit of the lifetime-value models on the store's orders: parameters, and how well
    they predicted a holdout period (the report's diagnostic chart)."""

    fitted_at = models.DateTimeField(default=timezone.now)
    observation_end = models.DateField()
    customers = models.PositiveIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    diagnostic = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, help_text="why the fit failed, if it did")

    class Meta:
        ordering = ["-fitted_at"]


class DigestSubscription(models.Model):
    """A member of staff who asked for the KPI digest by e-mail, daily or weekly (on their
    chosen weekday). Only staff who may see the reports can subscribe, and the sender
    checks again, so losing the permission stops the e-mails."""

    DAILY, WEEKLY = "daily", "weekly"
    FREQUENCIES = [(DAILY, "Daily (yesterday)"), (WEEKLY, "Weekly (the last 7 days)")]
    WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
                (5, "Saturday"), (6, "Sunday")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kpi_digest")
    frequency = models.CharField(max_length=10, choices=FREQUENCIES)
    weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=0, help_text="for weekly digests")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.frequency})"


class DigestDelivery(models.Model):
    """The outbox of KPI digests: one row per recipient, frequency and period, written
    before the e-mail goes (its unique key is what keeps a retry or a second beat from
    sending the same period twice); ``sent_at`` once the mail server took it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    frequency = models.CharField(max_length=10, choices=DigestSubscription.FREQUENCIES)
    period_start = models.DateField()
    period_end = models.DateField(help_text="exclusive: the day the digest was due")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end"]
        constraints = [models.UniqueConstraint(fields=["user", "frequency", "period_end"],
                                               name="ecrm_one_digest_per_period")]


class SavedFunnel(models.Model):
    """A funnel a marketer named and kept: its steps as ``ecrm.funnels.parse_steps`` makes them."""

    name = models.CharField(max_length=100, unique=True)
    steps = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Daily aggregates for the reports (ecrm.aggregates keeps them current) -------------------


class TrafficDay(models.Model):
    """One day of one traffic dimension's value: the sessions that started that day, how many
    of them converted, and the orders completed that day credited to it by last touch (the
    order's own session) and by first touch (the customer's first known session)."""

    SOURCE, MEDIUM, CAMPAIGN, LANDING_PAGE, REFERRER, SEARCH_TERM = (
        "source", "medium", "campaign", "landing_page", "referrer", "search_term")
    DIMENSIONS = [(SOURCE, "Source"), (MEDIUM, "Medium"), (CAMPAIGN, "Campaign"),
                  (LANDING_PAGE, "Landing page"), (REFERRER, "Referrer"), (SEARCH_TERM, "External search term")]

    day = models.DateField()
    dimension = models.CharField(max_length=20, choices=DIMENSIONS)
    value = models.CharField(max_length=500, blank=True, help_text="empty: none (no campaign, no referrer…)")
    sessions = models.PositiveIntegerField(default=0)
    converted_sessions = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0, help_text="last touch")
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0, help_text="last touch")
    first_touch_orders = models.PositiveIntegerField(default=0)
    first_touch_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dimension", "day", "value"], name="ecrm_traffic_day_once")]


class ProductDay(models.Model):
    """One day of one product: sessions that first viewed it and first added it that day,
    and the completed orders that contained it."""

    day = models.DateField()
    product_id = models.CharField(max_length=100)
    viewing_sessions = models.PositiveIntegerField(default=0)
    adding_sessions = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "product_id"], name="ecrm_product_day_once")]


class SessionProgress(models.Model):
    """One session as the aggregates have counted it so far: how far along the default funnel
    (``ecrm.funnels.DEFAULT_STEPS``) it got, which products it viewed and added, whether it
    converted. The next batch of its events is compared with this row, not with the session's
    whole history; the funnel report counts these rows instead of replaying events."""

    session_key = models.CharField(max_length=40, unique=True)
    day = models.DateField(help_text="the day the session started")
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    reached = models.PositiveSmallIntegerField(default=1, help_text="funnel steps reached, the session itself included")
    reached_at = models.DateTimeField(null=True, blank=True, help_text="when the last step reached happened")
    seen_until = models.DateTimeField(null=True, blank=True, help_text="the latest funnel event counted")
    viewed = models.JSONField(default=list, blank=True, help_text="product ids viewed")
    added = models.JSONField(default=list, blank=True, help_text="product ids added to the basket")
    converted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["day"])]


class CampaignCost(models.Model):
    """What a campaign cost over a period, entered by marketing, for the ROI report."""

    campaign = models.CharField(max_length=200, help_text="the utm_campaign name, as sessions record it")
    starts_on = models.DateField()
    ends_on = models.DateField()
    cost = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "campaign"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="ecrm_campaign_cost_period"),
                       models.CheckConstraint(condition=models.Q(cost__gte=0), name="ecrm_campaign_cost_positive")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.starts_on}–{self.ends_on}: {self.cost}"


class PendingAggregates(models.Model):
    """A batch the tracking consumer stored whose events the daily aggregates have not counted
    yet: written in the consumer's transaction (so a stored batch always has one), deleted in
    the transaction that counts it (``ecrm.aggregates_pending``), so no batch is counted twice
    or lost, whatever crashes or retries in between."""

    message_ids = models.JSONField(help_text="the batch's events, by message id")
    events = models.PositiveIntegerField()
    stored_at = models.DateTimeField(default=timezone.now)


class CustomerOrder(models.Model):
    """One Oscar order with the customer it belongs to, as profiles resolve people
    (``ecrm.customer_orders``): the Customers report and the KPI digest group these rows in
    the database instead of resolving every order on every request. Kept current when an
    order is saved and when identity links change who a customer is (identify, alias, a
    staff merge, an erasure); ``ecrm_rebuild_aggregates --customers`` recomputes them all."""

    order_id = models.BigIntegerField(primary_key=True, help_text="order.Order's id")
    base_person = models.CharField(max_length=254, help_text="the order's own key: account, guest e-mail, ...")
    person = models.CharField(max_length=254, help_text="who that key is now (claims, aliases, merges followed)")
    placed_at = models.DateTimeField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    is_sale = models.BooleanField(help_text="not cancelled")

    class Meta:
        indexes = [models.Index(fields=["person"]), models.Index(fields=["base_person"]),
                   models.Index(fields=["placed_at"])]
