"""The plain-text part of an HTML e-mail, generated from the HTML (no extra template to keep
in step): paragraphs and line breaks kept, links written as "text (url)", lists as bullets,
styles and scripts dropped.

Tokenising HTML (``html.parser``) was about a fifth of rendering a broadcast e-mail, and a
broadcast's e-mails are mostly the same lines: the template's and each product card's. So
the HTML is cut after every tag that ends a line (``>\\n``), each piece's parser events are
kept (``_EVENTS``, keyed by the piece's text) and replayed into the converter. A piece is
kept only when it is self-contained — the tokeniser starts and ends it in its ordinary
state, between tags, so that it reads the piece exactly as it reads it inside the whole
HTML; otherwise it is joined to the next one. The text is the same as parsing the whole.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "section",
          "header", "footer", "blockquote", "hr"}
SKIPPED = {"style", "script", "head", "title"}
SPACES = re.compile(r"\s+")
BLANK_LINES = re.compile(r"\n{3,}")
LINE_ENDS = re.compile(r"(?<=>)(?=\n)")  # where a piece may end: a tag closing a line
_EVENTS: dict[str, tuple | None] = {}  # piece -> its events (None: not self-contained)
_EVENTS_MAX = 20_000


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag):
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.parts[start:]).strip()
            if href and not href.startswith(("#", "mailto:")) and href != text:
                self.parts.append(f" ({href})" if text else href)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(SPACES.sub(" ", data))


class _Recorder(HTMLParser):
    """The tokeniser's events for one piece, and whether it ended between tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.events.append((0, tag, attrs))

    def handle_startendtag(self, tag, attrs):  # as HTMLParser's own: a start then an end
        self.events.append((0, tag, attrs))
        self.events.append((1, tag))

    def handle_endtag(self, tag):
        self.events.append((1, tag))

    def handle_data(self, data):
        self.events.append((2, data))

    def handle_comment(self, data):
        self.events.append((3, data))

    def handle_decl(self, decl):
        self.events.append((3, decl))

    def handle_pi(self, data):
        self.events.append((3, data))

    def unknown_decl(self, data):
        self.events.append((3, data))


def _events(piece: str) -> tuple | None:
    """The piece's events when it is self-contained, else None (remembered either way)."""
    if piece in _EVENTS:
        return _EVENTS[piece]
    recorder = _Recorder()
    recorder.feed(piece)
    clean = (not recorder.rawdata and recorder.cdata_elem is None and recorder.events
             and recorder.events[-1][0] != 2 and piece.endswith(">"))
    if len(_EVENTS) >= _EVENTS_MAX:
        _EVENTS.clear()
    found = _EVENTS[piece] = tuple(recorder.events) if clean else None
    return found


def _replay(parser: _Text, events: tuple) -> None:
    for event in events:
        kind = event[0]
        if kind == 0:
            parser.handle_starttag(event[1], event[2])
        elif kind == 1:
            parser.handle_endtag(event[1])
        elif kind == 2:
            parser.handle_data(event[1])


def html_to_text(html: str) -> str:
    parser = _Text()
    pending = ""
    for piece in LINE_ENDS.split(html or ""):
        pending += piece
        events = _events(pending)
        if events is not None:  # the tokeniser is between tags here, as after a fresh start
            _replay(parser, events)
            pending = ""
    parser.feed(pending)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() for line in text.split("\n")]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"
