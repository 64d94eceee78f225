"""Opens and clicks: what a campaign message's HTML is instrumented with, and the facts the
pixel and the redirect record.

* Every link (``<a href="http(s)://…">``) becomes ``/campaigns/c/<token>/?u=<url>``; the
  token is the message's own token (``campaigns.tokens.message_token``: its id, signed once
  per message) and a signed digest of that exact URL (``<message token>~<digest>:<sig>``:
  signed once per URL, whoever it is sent to), so the redirect goes to the URL
  the template wrote — query string and all, the recommender's ``?ecrm_token`` included —
  and nowhere else: a changed ``u`` is followed only to the shop's own hosts and recorded
  as nothing; a bad token is a 400. The unsubscribe link is left alone (RFC 8058 and
  mailbox providers want it direct), as are ``mailto:``, ``tel:`` and anchors.
* A 1×1 GIF ``/campaigns/o/<token>.gif`` is appended to the body: fetched when a mail
  client shows images. Mail proxies (Gmail, Yahoo) and privacy prefetching (Apple Mail)
  fetch it too (its token: the message's own), so an open is "the message was displayed or prefetched"; the row notes a
  known proxy's or scanner's user agent (``automated``) and clicks by those are not counted.
* Tokens of the earlier form (one signature over message id and URL digest; the pixel's
  under its own salt) keep working.
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
from campaigns.tokens import absolute, fast_sign, message_token, read_message_token

OPEN_SALT, CLICK_SALT, LINK_SALT = "campaigns.open", "campaigns.click", "campaigns.link"
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
    return message_token(message_id)


def read_open_token(token: str) -> int | None:
    """The message id of a pixel's token (the message's own, or the earlier pixel token)."""
    found = read_message_token(token)
    if found is not None:
        return found
    try:
        return int(signing.Signer(salt=OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


@lru_cache(maxsize=65536)
def link_token(digest: str) -> str:
    """``<digest>:<signature>``: the URL with this digest was written by one of our templates
    (the same for every recipient, so signed once per process)."""
    return fast_sign(digest, LINK_SALT)


def click_token(message_id: int, url: str, token: str | None = None) -> str:
    return f"{token or message_token(message_id)}~{link_token(url_digest(url))}"


def read_click_token(token: str) -> tuple[int, str] | None:
    """(message id, digest of the URL signed), or None for a token that is not ours."""
    if "~" in (token or ""):
        message_part, _, link_part = token.partition("~")
        message_id = read_message_token(message_part)
        try:
            digest = signing.Signer(salt=LINK_SALT).unsign(link_part)
        except signing.BadSignature:
            return None
        return (message_id, digest) if message_id is not None and digest else None
    try:  # the earlier form: one signature over "<message id>.<digest>"
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
    """(the URL a link's href means, its link token, ``u=<url>``): the same few hundred links
    come back in every e-mail of a broadcast."""
    url = html.unescape(written).strip()
    return url, link_token(url_digest(url)), urlencode({"u": url})


def patterns() -> tuple[str, str]:
    """(click, open) URL patterns with ``{token}``, once per rendering batch."""
    from campaigns.render_batch import batch_cached

    return batch_cached("engagement-patterns", lambda: (_pattern("campaigns:click"), _pattern("campaigns:open")))


def instrument_links(body: str, *, token: str, keep: set[str] = frozenset(), pattern: str | None = None,
                     personal=None) -> str:
    """Every web link of ``body`` through the click redirect, under the message token
    ``token``; links in ``keep`` stay as they are. ``personal(url)`` True makes this raise
    ``ValueError`` instead (``campaigns.skeleton``: a link with a recipient's value in it)."""
    pattern = pattern or patterns()[0]

    def rewrite(match: re.Match) -> str:
        url, link, query = _link(match.group(3))
        if personal is not None and personal(url):
            raise ValueError(f"the link {url[:80]!r} has a recipient's value in it")
        if not url.lower().startswith(("http://", "https://")) or url in keep:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{html.escape(pattern.format(token=f'{token}~{link}'))}" \
               f"?{html.escape(query)}{match.group(2)}"  # as click_url

    return LINK.sub(rewrite, body)


def open_pixel(token: str, open_pattern: str | None = None) -> str:
    src = html.escape((open_pattern or patterns()[1]).format(token=token))
    return (f'<img src="{src}" width="1" height="1" '
            'alt="" style="display:block;border:0;width:1px;height:1px" aria-hidden="true">')


def pixel_appended(body: str, pixel: str) -> str:
    parts = BODY_END.split(body, maxsplit=1)
    return f"{parts[0]}{pixel}</body>{parts[1]}" if len(parts) == 2 else body + pixel


def instrument_html(body: str, *, message_id: int, keep: set[str] = frozenset(), token: str | None = None) -> str:
    """The HTML with every web link going through the click redirect and the open pixel
    appended; links in ``keep`` (the unsubscribe URL) stay as they are."""
    token = token or message_token(message_id)
    return pixel_appended(instrument_links(body, token=token, keep=keep), open_pixel(token))


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
