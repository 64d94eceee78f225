"""Opens and clicks: what a campaign message's HTML is instrumented with, and the facts the
pixel and the redirect record.

* Every link (``<a href="http(s)://…">``) becomes ``/campaigns/c/<token>/?u=<url>``; the
  token signs the message id and a digest of that exact URL, so the redirect goes to the URL
  the template wrote — query string and all, the recommender's ``?ecrm_token`` included —
  and nowhere else: a changed ``u`` is followed only to the shop's own hosts and recorded
  as nothing; a bad token is a 400. The unsubscribe link is left alone (RFC 8058 and
  mailbox providers want it direct), as are ``mailto:``, ``tel:`` and anchors.
* A 1×1 GIF ``/campaigns/o/<token>.gif`` is appended to the body: fetched when a mail
  client shows images. Mail proxies (Gmail, Yahoo) and privacy prefetching (Apple Mail)
  fetch it too, so an open is "the message was displayed or prefetched"; the row notes a
  known proxy's or scanner's user agent (``automated``) and clicks by those are not counted.
* Both record once per message (and link): ``INSERT … ON CONFLICT DO NOTHING``, so a
  pixel fetched again or a link clicked twice adds nothing. Neither needs a login, a
  session or a cookie.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from campaigns.defaults import setting
from campaigns.tokens import absolute

OPEN_SALT, CLICK_SALT = "campaigns.open", "campaigns.click"
LINK = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)
# User agents of mail proxies, link scanners and preview bots (lower case, substrings).
AUTOMATED = ("googleimageproxy", "yahoomailproxy", "bot", "crawler", "spider", "scanner", "proofpoint",
             "mimecast", "barracuda", "safelinks", "python-requests", "curl/", "wget/", "headless")
GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
       b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def url_digest(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def open_token(message_id: int) -> str:
    return signing.Signer(salt=OPEN_SALT).sign(str(message_id))


def read_open_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def click_token(message_id: int, url: str) -> str:
    return signing.Signer(salt=CLICK_SALT).sign(f"{message_id}.{url_digest(url)}")


def read_click_token(token: str) -> tuple[int, str] | None:
    """(message id, digest of the URL signed), or None for a token that is not ours."""
    try:
        message_id, digest = signing.Signer(salt=CLICK_SALT).unsign(token).split(".")
        return int(message_id), digest
    except (signing.BadSignature, ValueError):
        return None


def _pattern(name: str) -> str:
    """The absolute URL of a route with ``{token}`` for its token (reversed once per call of
    ``instrument_html``, not once per link)."""
    return absolute(reverse(name, kwargs={"token": "TOKEN"})).replace("TOKEN", "{token}")


def click_url(message_id: int, url: str, pattern: str | None = None) -> str:
    return ((pattern or _pattern("campaigns:click")).format(token=click_token(message_id, url))
            + "?" + urlencode({"u": url}))


def open_url(message_id: int) -> str:
    return _pattern("campaigns:open").format(token=open_token(message_id))


@lru_cache(maxsize=4096)
def _link(written: str) -> tuple[str, str, str]:
    """(the URL a link's href means, its digest, ``u=<url>``): the same few hundred links
    come back in every e-mail of a broadcast."""
    url = html.unescape(written).strip()
    return url, url_digest(url), urlencode({"u": url})


def instrument_html(body: str, *, message_id: int, keep: set[str] = frozenset()) -> str:
    """The HTML with every web link going through the click redirect and the open pixel
    appended; links in ``keep`` (the unsubscribe URL) stay as they are."""
    from campaigns.render_batch import batch_cached

    pattern, open_pattern = batch_cached("engagement-patterns", lambda: (
        _pattern("campaigns:click"), _pattern("campaigns:open")))
    signer = signing.Signer(salt=CLICK_SALT)

    def rewrite(match: re.Match) -> str:
        url, digest, query = _link(match.group(3))
        if not url.lower().startswith(("http://", "https://")) or url in keep:
            return match.group(0)
        link = f"{pattern.format(token=signer.sign(f'{message_id}.{digest}'))}?{query}"  # as click_url
        return f"{match.group(1)}{match.group(2)}{html.escape(link)}{match.group(2)}"

    body = LINK.sub(rewrite, body)
    pixel = (f'<img src="{html.escape(open_pattern.format(token=open_token(message_id)))}" width="1" height="1" '
             'alt="" style="display:block;border:0;width:1px;height:1px" aria-hidden="true">')
    parts = BODY_END.split(body, maxsplit=1)
    return f"{parts[0]}{pixel}</body>{parts[1]}" if len(parts) == 2 else body + pixel


def is_automated(user_agent: str) -> bool:
    agent = (user_agent or "").lower()
    return not agent or any(marker in agent for marker in AUTOMATED)


def shop_hosts() -> set[str]:
    """The store's own host names: CAMPAIGNS_BASE_URL's and ALLOWED_HOSTS' exact names."""
    hosts = {urlparse(setting("CAMPAIGNS_BASE_URL")).hostname or ""}
    hosts.update(h.lower() for h in settings.ALLOWED_HOSTS if h and not h.startswith(".") and h != "*")
    return hosts - {""}


def safe_target(url: str) -> bool:
    """An unsigned URL may only go to one of the shop's hosts, over http(s)."""
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and (parsed.hostname or "").lower() in shop_hosts()


def open_record(*, message, user_agent: str) -> None:
    """Note the message's first open (a later fetch of the pixel adds nothing)."""
    from campaigns.models import MessageOpen

    MessageOpen.objects.bulk_create(
        [MessageOpen(message=message, person_key=message.person_key, campaign=message.campaign,
                     at=timezone.now(), automated=is_automated(user_agent))], ignore_conflicts=True)


def click_record(*, message, url: str, user_agent: str) -> None:
    """Note the first click on this link of the message."""
    from campaigns.models import MessageClick

    MessageClick.objects.bulk_create(
        [MessageClick(message=message, person_key=message.person_key, campaign=message.campaign, url=url[:2000],
                      url_hash=url_digest(url), at=timezone.now(), automated=is_automated(user_agent))],
        ignore_conflicts=True)
