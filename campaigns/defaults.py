"""Every ``CAMPAIGNS_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # Absolute base of links in messages (unsubscribe, order status): RFC 8058 wants HTTPS.
    # ``None``: Wagtail's WAGTAILADMIN_BASE_URL.
    "CAMPAIGNS_BASE_URL": None,
    # Global frequency cap: at most one marketing message per customer per this many hours
    # (0: no cap). A message over the cap is deferred until the cap allows it, never dropped.
    "CAMPAIGNS_FREQUENCY_CAP_HOURS": 16,
    # Quiet hours, in the customer's time zone when known (their ``timezone`` trait), else
    # the store's TIME_ZONE: marketing due in them waits until they end. ``None``: none.
    # (start hour, end hour), 24-hour clock; (21, 8) spans midnight.
    "CAMPAIGNS_QUIET_HOURS": (21, 8),
    # Failed sends: how many attempts in all, and the first retry's delay (doubling each time,
    # at most CAMPAIGNS_RETRY_MAX_SECONDS). After the last attempt the message is a dead letter.
    "CAMPAIGNS_MAX_ATTEMPTS": 5,
    "CAMPAIGNS_RETRY_BASE_SECONDS": 60,
    "CAMPAIGNS_RETRY_MAX_SECONDS": 3600,
    # How long a worker holds a message it is sending. A claim older than this is a worker
    # that died mid-send: the message is sent again (at least once) when
    # CAMPAIGNS_RESEND_UNCONFIRMED, else it becomes a dead letter for staff to judge (at most once).
    "CAMPAIGNS_SEND_LEASE_SECONDS": 300,
    "CAMPAIGNS_RESEND_UNCONFIRMED": True,
    # A due message queued to Celery but not sent within this time is queued again by the tick
    # (a lost task message); duplicates are harmless, the claim lets one through.
    "CAMPAIGNS_REQUEUE_AFTER_SECONDS": 300,
    # The Celery queue the delivery tasks go to (``None``: Celery's default queue).
    "CAMPAIGNS_QUEUE": None,
    # Modules that register trigger kinds (campaigns.triggers.base.register) when imported.
    "CAMPAIGNS_TRIGGER_MODULES": [
        "campaigns.triggers.baskets",      # abandoned basket, abandoned checkout
        "campaigns.triggers.browsing",     # browse abandonment
        "campaigns.triggers.purchases",    # post-purchase cross-sell, replenishment, win-back
        "campaigns.triggers.catalogue",    # back in stock, price drop, new arrivals
        "campaigns.triggers.lifecycle",    # welcome series, birthday, occasion reminder
        "campaigns.triggers.segments",     # joined / left a segment
    ],
    # Share of each flow's and broadcast's audience kept as a holdout that receives nothing
    # (0.1 = 10 %); a flow or broadcast can set its own.
    "CAMPAIGNS_HOLDOUT_DEFAULT": 0.1,
    # HTTP basic-auth credentials ("user:password") the delivery-events webhook requires, as
    # django-anymail's WEBHOOK_SECRET. Empty: the webhook answers 403 to everybody.
    "CAMPAIGNS_WEBHOOK_SECRET": "",
    # Order statuses that send the customer nothing when an order moves into them.
    "CAMPAIGNS_SILENT_ORDER_STATUSES": [],
    # Tracking links per carrier (lower-case name as staff type it in the shipping event's
    # reference, "Royal Mail JD014600003GB"); {number} is the tracking number.
    "CAMPAIGNS_CARRIER_TRACKING_URLS": {
        "royal mail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
        "dpd": "https://track.dpd.co.uk/parcels/{number}",
        "dhl": "https://www.dhl.com/gb-en/home/tracking.html?tracking-id={number}",
        "ups": "https://www.ups.com/track?tracknum={number}",
        "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
        "evri": "https://www.evri.com/track/parcel/{number}",
    },
    # --- Flows (campaigns.flows) and the SMS channel.
    # How often each active flow's trigger is asked who is due (the tick runs more often; the
    # flow steps already due run on every tick).
    "CAMPAIGNS_FLOW_TRIGGER_SECONDS": 60,
    # A flow's webhook step: how long to wait for the receiver before counting a failure
    # (retried with the outbox's backoff, CAMPAIGNS_RETRY_BASE_SECONDS..., up to
    # CAMPAIGNS_MAX_ATTEMPTS attempts, then the flow goes on and the error stays on the enrolment).
    "CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS": 5,
    # Where SMS go, as EMAIL_BACKEND for e-mail: a dotted path to a class with send_messages().
    # Shipped: campaigns.sms.backends.console / filebased (CAMPAIGNS_SMS_FILE_PATH) / locmem.
    "CAMPAIGNS_SMS_BACKEND": "campaigns.sms.backends.console.SmsBackend",
    "CAMPAIGNS_SMS_FILE_PATH": None,
    # The sender name or number the provider shows.
    "CAMPAIGNS_SMS_FROM": "",
    # Results: an order by a recipient (or holdout member) within this many days after the
    # send counts as a conversion of the campaign; a broadcast can set its own.
    "CAMPAIGNS_ATTRIBUTION_DAYS": 5,
    # Broadcasts fan out this many recipients per transaction, and delivery tasks take this
    # many messages each (each still claimed on its own, so exactly-once holds per message).
    "CAMPAIGNS_FANOUT_CHUNK": 5000,
    "CAMPAIGNS_DELIVERY_BATCH": 200,
}


def setting(name: str):
    value = getattr(settings, name, DEFAULTS[name])
    if name == "CAMPAIGNS_BASE_URL" and not value:
        value = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "http://localhost:8000"
    return value
