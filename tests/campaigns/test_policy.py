"""The timing rules (pure code, no database): backoff, frequency cap, quiet hours."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from campaigns.plaintext import html_to_text
from campaigns.policy import next_allowed, quiet_hours_end, retry_delay, zone_of

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc


def test_backoff_doubles_up_to_the_maximum():
    delays = [retry_delay(n, base=60, maximum=600).total_seconds() for n in range(1, 6)]
    assert delays == [60, 120, 240, 480, 600]


def test_quiet_hours_span_midnight_on_the_local_clock():
    # 22:30 in London (summer: UTC+1) is inside 21-08; they end at 08:00 London next day.
    now = datetime(2026, 7, 1, 21, 30, tzinfo=UTC)
    assert quiet_hours_end(now, (21, 8), LONDON) == datetime(2026, 7, 2, 8, 0, tzinfo=LONDON)
    # 02:00 London is inside too, and ends the same morning.
    assert quiet_hours_end(datetime(2026, 7, 2, 1, 0, tzinfo=UTC), (21, 8), LONDON) == datetime(
        2026, 7, 2, 8, 0, tzinfo=LONDON)
    assert quiet_hours_end(datetime(2026, 7, 2, 12, 0, tzinfo=UTC), (21, 8), LONDON) is None
    assert quiet_hours_end(now, None, LONDON) is None


def test_quiet_hours_follow_the_customers_time_zone():
    noon_utc = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # 23:00 in Sydney, 12:00 in London
    sydney = zone_of("Australia/Sydney", "Europe/London")
    assert quiet_hours_end(noon_utc, (21, 8), sydney) == datetime(2026, 1, 16, 8, 0, tzinfo=sydney)
    assert quiet_hours_end(noon_utc, (21, 8), zone_of("Not/AZone", "Europe/London")) is None
    assert zone_of(None, "Europe/London").key == "Europe/London"


def test_the_cap_then_quiet_hours_decide_the_next_moment():
    now = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    assert next_allowed(now, last_marketing_at=None, cap_hours=16, quiet=(21, 8), zone=LONDON) is None
    assert next_allowed(now, last_marketing_at=now - timedelta(hours=17), cap_hours=16, quiet=(21, 8),
                        zone=LONDON) is None
    at, why = next_allowed(now, last_marketing_at=now - timedelta(hours=2), cap_hours=16, quiet=None, zone=LONDON)
    assert at == now + timedelta(hours=14) and "frequency cap" in why
    # The cap ends at 00:00, inside quiet hours: the message waits until 08:00.
    at, why = next_allowed(now, last_marketing_at=now - timedelta(hours=2), cap_hours=16, quiet=(21, 8), zone=LONDON)
    assert at == datetime(2026, 1, 16, 8, 0, tzinfo=LONDON) and "quiet hours" in why and "cap" in why
    assert next_allowed(now, last_marketing_at=now, cap_hours=0, quiet=None, zone=LONDON) is None


def test_the_plain_text_part_keeps_paragraphs_and_links():
    text = html_to_text('<html><head><style>p{color:red}</style></head><body><p>Hello <b>Ada</b>,</p>'
                        '<p>Your order is <a href="https://shop.example/o/1">on its way</a>.</p>'
                        '<ul><li>Skillet</li><li>Kettle</li></ul></body></html>')
    assert text == ("Hello Ada,\n\nYour order is on its way (https://shop.example/o/1).\n\n"
                    "- Skillet\n- Kettle\n")
