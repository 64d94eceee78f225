"""A broadcast's e-mail rendered once as a skeleton, then filled in per recipient — the way
ESPs merge a campaign: the Django template, the click instrumentation and the plain-text
part are worked out once for everybody, and each message only resolves its own values
(name, recommendations block, unsubscribe link, token) and joins strings.

How the skeleton is made (``skeleton_for``): the context's names that are the same for
every message of the broadcast (``broadcast``, ``shop_name``, ``static_base_url`` and the
message's stored ids) are kept; every other name (``customer``, ``user``, ``message``,
``recommendations``, ``unsubscribe_url``, ...) is personal. A ``{{ … }}`` whose variable
starts with a personal name and whose filters take only literal arguments is a *slot*: it
renders a marker in the skeleton and, per message, exactly what Django's ``VariableNode``
renders (the same filters, escaping and localisation) for that recipient. Slots are found
in the template and in what it ``{% extends %}`` or ``{% include %}``s by name, through
``{% if %}``/``{% for %}``/``{% with %}``/``{% block %}``/``{% autoescape %}`` bodies.

When the skeleton cannot express the template (detection; the message is then rendered in
full, as before, so the output is always the per-message Django render):

* personal data used by anything but a slot — ``{% if customer.first_name %}``, ``{% for
  item in recommendations.items %}``, ``{% blocktrans %}`` with a personal name, a filter
  argument or tag argument that is personal, a custom tag reading the context, a slot
  inside ``{% filter %}`` or ``{% spaceless %}``. The skeleton is rendered with every
  personal name bound to a sentinel that notes any use; a use means "per recipient logic";
* a link whose URL contains a personal value other than being that value alone (the
  unsubscribe link), a personal value at the very start or end of the HTML;
* e-mail designs (``design:<slug>``, Wagtail blocks and CSS inlining): always in full.

Per message, a value that could change how the HTML around it is read (markup inside a
tag, ``</body>``, a link-like text, surrounding whitespace, an empty value) makes that one
message render in full. HTML values (the recommendations block) are instrumented and
turned into text once per distinct block (a broadcast shows a few thousand distinct blocks
to 100,000 people). tests/campaigns/test_skeleton.py compares the two renders.
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
from dataclasses import dataclass, field

from django.db.models import Model
from django.template import Context, VariableDoesNotExist, engines
from django.template.base import FilterExpression, NodeList, Variable, VariableNode
from django.template.defaulttags import AutoEscapeControlNode, ForNode, IfNode, WithNode
from django.template.loader_tags import BlockNode, ExtendsNode, IncludeNode

from campaigns.engagement import BODY_END, instrument_links, open_pixel, patterns, pixel_appended
from campaigns.plaintext import SPACES, html_to_text

logger = logging.getLogger(__name__)
SKELETON_KEY = "_campaigns_skeleton"
TOKEN = "\x02t\x03"  # the message token's place
MARKER = re.compile("\x02([0-9]+|t)\x03")
SHARED_NAMES = frozenset({"broadcast", "shop_name", "static_base_url"})
LINK_LIKE = ("http://", "https://", "mailto:", "#", "//")
_CACHE: dict[tuple, "Family | None"] = {}
VARIANTS_MAX = 32
_CACHE_MAX = 64
_CHUNKS_MAX = 5_000


class Unsupported(Exception):
    """The template uses personal data in a way the skeleton cannot express."""


class _Sentinel:
    """What a personal name is bound to while the skeleton renders: any use is noted."""

    def __init__(self, uses: list, name: str):
        object.__setattr__(self, "_uses", uses)
        object.__setattr__(self, "_name", name)

    def _note(self, *_args, **_kwargs):
        self._uses.append(self._name)
        return ""

    def __getattr__(self, name):
        self._note()
        raise AttributeError(name)

    def __getitem__(self, key):
        self._note()
        raise KeyError(key)

    def __bool__(self):
        self._note()
        return False

    __str__ = __html__ = __repr__ = _note
    __iter__ = lambda self: (self._note(), iter(()))[1]  # noqa: E731
    __len__ = lambda self: (self._note(), 0)[1]  # noqa: E731
    __eq__ = lambda self, other: (self._note(), False)[1]  # noqa: E731
    __hash__ = object.__hash__


# --- finding the slots ----------------------------------------------------------------------

def _root(var) -> str | None:
    return var.lookups[0] if isinstance(var, Variable) and var.lookups else None


def _slot_expression(expression: FilterExpression, personal: set[str]) -> bool | None:
    """True: a slot; None: nothing personal; Unsupported: personal data in a filter argument."""
    if any(is_var and _root(arg) in personal for _func, args in expression.filters for is_var, arg in args):
        raise Unsupported("a filter argument is personal")
    if _root(expression.var) not in personal:
        return None
    if any(is_var for _func, args in expression.filters for is_var, _arg in args):
        raise Unsupported("a personal value filtered with a variable argument")
    return True


def _literal_name(expression) -> str | None:
    if isinstance(expression, FilterExpression) and isinstance(expression.var, str) and not expression.filters:
        return expression.var
    return None


def _condition_names(node: IfNode) -> set[str]:
    """Every name the clauses of an ``{% if %}`` read."""
    names: set[str] = set()

    def visit(part) -> None:
        if part is None:
            return
        value = getattr(part, "value", None)
        if isinstance(value, FilterExpression):
            names.add(_root(value.var))
            names.update(_root(arg) for _func, args in value.filters for is_var, arg in args if is_var)
        for child in (getattr(part, "first", None), getattr(part, "second", None)):
            if child is not None and child is not part:
                visit(child)

    for condition, _branch in node.conditions_nodelists:
        visit(condition)
    return names - {None}


@dataclass
class _Found:
    slots: list = field(default_factory=list)  # slot VariableNodes
    switches: list = field(default_factory=list)  # (IfNode, path, personal): path = ((IfNode, branch), ...)
    seen: set = field(default_factory=set)  # template names walked


def _walk(nodelist, personal: set[str], bound: frozenset, found: _Found, path: tuple = ()) -> None:
    """Collect the slots and the ``{% if %}``s of ``nodelist`` (and of templates it names)."""
    for node in nodelist:
        if isinstance(node, VariableNode):
            if _slot_expression(node.filter_expression, personal):
                found.slots.append(node)
        elif isinstance(node, ForNode):
            inner = bound | set(node.loopvars)
            _walk(node.nodelist_loop, personal - inner, inner, found, path)
            _walk(node.nodelist_empty or NodeList(), personal, bound, found, path)
        elif isinstance(node, WithNode):
            inner = bound | set(node.extra_context)
            _walk(node.nodelist, personal - inner, inner, found, path)
        elif isinstance(node, IfNode):
            names = _condition_names(node)
            is_personal = bool(names & personal)
            if is_personal and names & bound:
                raise Unsupported("a condition on personal data inside a {% for %} or {% with %} using its names")
            found.switches.append((node, path, is_personal))
            for branch, (_condition, nodelist) in enumerate(node.conditions_nodelists):
                _walk(nodelist, personal, bound, found, (*path, (node, branch)))
        elif isinstance(node, (BlockNode, AutoEscapeControlNode)):
            _walk(node.nodelist, personal, bound, found, path)
        elif isinstance(node, ExtendsNode):
            _walk(node.nodelist, personal, bound, found, path)
            _walk_named(_literal_name(node.parent_name), personal, bound, found, path)
        elif isinstance(node, IncludeNode):
            inner = set() if node.isolated_context else personal - set(node.extra_context)
            _walk_named(_literal_name(node.template), inner, bound | set(node.extra_context), found, path)
        # Any other tag renders without slots: a personal name it uses shows as a sentinel use.


def _walk_named(name: str | None, personal: set[str], bound: frozenset, found: _Found, path: tuple) -> None:
    if name is None or name in found.seen:  # a computed name: its personal uses show as sentinel uses
        return
    found.seen.add(name)
    template = engines["django"].engine.get_template(name)
    _walk(template.nodelist, personal, bound, found, path)


def _branch(node: IfNode, context) -> int:
    """The clause ``IfNode.render`` takes (its index), -1 for none."""
    for index, (condition, _nodelist) in enumerate(node.conditions_nodelists):
        if condition is None:
            return index
        try:
            if condition.eval(context):
                return index
        except VariableDoesNotExist:
            pass
    return -1


def _switch_render(node, context):
    """A personal ``{% if %}``'s render: the recipient group's clause while a skeleton is made."""
    collector = context.get(SKELETON_KEY)
    if collector is None or id(node) not in collector.outcomes:
        return IfNode.render(node, context)
    branch = collector.outcomes[id(node)]
    return node.conditions_nodelists[branch][1].render(context) if branch >= 0 else ""


def _slot_render(node, context):
    """A slot VariableNode's render: its marker while a skeleton is made, else as always."""
    collector = context.get(SKELETON_KEY)
    if collector is None:
        return VariableNode.render(node, context)
    return collector.add(node, context)


def _wrap(node, render) -> None:
    """Route the node's render through ``render`` (an instance attribute on a compiled,
    cached template: outside a skeleton build it renders exactly as before)."""
    if "render" not in node.__dict__:
        node.render = render.__get__(node)


@dataclass
class _Collector:
    outcomes: dict  # id(IfNode) -> the clause this group of recipients takes
    slots: list = field(default_factory=list)  # (node, autoescape, use_l10n, use_tz)
    index: dict = field(default_factory=dict)

    def add(self, node, context) -> str:
        key = (id(node), context.autoescape, context.use_l10n, context.use_tz)
        if key not in self.index:
            self.index[key] = len(self.slots)
            self.slots.append((node, context.autoescape, context.use_l10n, context.use_tz))
        return f"\x02{self.index[key]}\x03"


# --- the skeleton -----------------------------------------------------------------------------

def _pieces(text: str) -> list:
    """Literal strings and slot references (int, or "t" for the token), alternating."""
    parts = MARKER.split(text)
    return [part if n % 2 == 0 else (part if part == "t" else int(part)) for n, part in enumerate(parts)]


@dataclass
class Skeleton:
    slots: list
    subject: list
    body: list
    html: str  # stripped, with markers, not instrumented ("" when the template has no HTML)
    html_pieces: list  # instrumented, with the pixel: pieces
    html_slots: set  # slots in the HTML
    in_tag: set  # slots that occur inside a tag
    whole_href: set  # slots that are a link's whole URL
    text_data: set  # slots that occur as text in the HTML
    chunks: dict = field(default_factory=dict)  # html value -> instrumented (token marker)
    texts: dict = field(default_factory=dict)  # ((slot, html value), ...) -> text with markers

    def values(self, context: dict) -> list[str]:
        by_flags = {}
        values = []
        for node, autoescape, use_l10n, use_tz in self.slots:
            ctx = by_flags.get((autoescape, use_l10n, use_tz))
            if ctx is None:
                ctx = by_flags[(autoescape, use_l10n, use_tz)] = Context(
                    context, autoescape=autoescape, use_l10n=use_l10n, use_tz=use_tz)
            values.append(str(VariableNode.render(node, ctx)))
        return values


def _fill(pieces: list, values: list, token: str = "") -> str:
    return "".join(piece if isinstance(piece, str) and n % 2 == 0 else (token if piece == "t" else values[piece])
                   for n, piece in enumerate(pieces))


def _positions(html: str) -> tuple[set, set, set]:
    """(slots inside a tag, slots that are a whole href, slots in text) of the HTML."""
    in_tag, whole_href, text_data = set(), set(), set()
    for match in MARKER.finditer(html):
        if match.group(1) == "t":
            continue
        slot, before = int(match.group(1)), html[:match.start()]
        if before.rfind("<") > before.rfind(">"):
            in_tag.add(slot)
            if re.search(r"""\bhref\s*=\s*(["'])$""", before, re.IGNORECASE) \
                    and html[match.end():match.end() + 1] in "\"'":
                whole_href.add(slot)
        else:
            text_data.add(slot)
    return in_tag, whole_href, text_data


@dataclass
class Family:
    """A template's skeletons: one per combination of the clauses its personal ``{% if %}``s
    take (``{% if customer.first_name %}``: two), made when a recipient first needs it."""
    templates: dict
    shared_context: dict
    personal: set
    switches: list
    variants: dict = field(default_factory=dict)

    def outcomes(self, context: dict) -> tuple:
        """The clause each personal ``{% if %}`` takes for this recipient (None: not reached),
        evaluated as ``IfNode.render`` does, outer ones first."""
        ctx, chosen = Context(context), {}
        for node, path, _personal in self.switches:
            if all(chosen.get(id(parent)) == branch for parent, branch in path):
                chosen[id(node)] = _branch(node, ctx)
        return tuple(chosen.get(id(node)) for node, _path, personal in self.switches if personal)

    def skeleton(self, context: dict) -> Skeleton | None:
        outcomes = self.outcomes(context) if self.switches else ()
        if outcomes not in self.variants:
            if len(self.variants) >= VARIANTS_MAX:
                return None
            chosen = dict(zip((id(node) for node, _path, personal in self.switches if personal), outcomes))
            try:
                self.variants[outcomes] = skeleton_build(self, chosen)
            except Unsupported as reason:
                logger.info("a recipient group is rendered per message: %s", reason)
                self.variants[outcomes] = None
        return self.variants[outcomes]


def family_make(templates: dict, context: dict, shared: set[str]) -> Family:
    """Find the slots and personal ``{% if %}``s of the parts (``subject``, ``body``, ``html``:
    compiled backend templates or None), or Unsupported."""
    personal = set(context) - shared
    found = _Found()
    for template in templates.values():
        if template is not None:
            _walk(template.template.nodelist, personal, frozenset(), found)
    for node in found.slots:
        _wrap(node, _slot_render)
    for node, _path, is_personal in found.switches:
        if is_personal:
            _wrap(node, _switch_render)
    return Family(templates, {name: context[name] for name in shared if name in context}, personal,
                  [switch for switch in found.switches])


def skeleton_build(family: Family, outcomes: dict) -> Skeleton:
    """The skeleton for recipients whose personal ``{% if %}``s take ``outcomes``."""
    uses: list = []
    collector = _Collector(outcomes)
    skeleton_context = {**family.shared_context, **{name: _Sentinel(uses, name) for name in family.personal},
                        SKELETON_KEY: collector}
    out = {name: template.render(skeleton_context) if template is not None else ""
           for name, template in family.templates.items()}
    if uses:
        raise Unsupported(f"per-recipient logic on {sorted(set(uses))}")
    html = out["html"].strip()
    if html and (MARKER.match(html) or MARKER.search(html[-12:]) and html.endswith("\x03")):
        raise Unsupported("a personal value at the start or end of the HTML")
    in_tag, whole_href, text_data = _positions(html)
    click, opened = patterns()

    def personal_url(url: str) -> bool:
        if MARKER.fullmatch(url):
            return False  # the whole URL is one value: checked per message (the unsubscribe link)
        if MARKER.search(url):
            raise Unsupported("a link with a personal value in it")
        return False

    instrumented = ""
    if html:
        instrumented = pixel_appended(instrument_links(html, token=TOKEN, pattern=click, personal=personal_url),
                                      open_pixel(TOKEN, opened))
    return Skeleton(collector.slots, _pieces(out["subject"]), _pieces(out["body"]), html, _pieces(instrumented),
                    {int(m) for m in MARKER.findall(html) if m != "t"}, in_tag, whole_href, text_data)


# --- per message ------------------------------------------------------------------------------

def _is_html(value: str) -> bool:
    return "<" in value or ">" in value


def _text_form(value: str) -> str | None:
    """What a text value reads as in the plain-text part, when that does not depend on what
    surrounds it; else None."""
    text = html_lib.unescape(value)
    if not text or text != text.strip() or SPACES.sub(" ", text) != text or "&" in value and "&" in text:
        return None
    return text


def skeleton_fill(skeleton: Skeleton, context: dict, *, token: str, unsubscribe_url: str | None) -> dict | None:
    """{"subject", "body", "html" (instrumented), "text" (from the HTML, or None when the body
    part gives it)} for one recipient, or None when this recipient's values need the full render."""
    values = skeleton.values(context)
    subject = _fill(skeleton.subject, values).replace("\n", "").replace("\r", "")
    body = _fill(skeleton.body, values)
    if not skeleton.html:
        return {"subject": subject, "body": body, "html": "", "text": None}
    html_values = list(values)
    chunk_keys = []
    for slot in skeleton.html_slots:
        value = values[slot]
        if slot in skeleton.in_tag and (_is_html(value) or '"' in value or "'" in value):
            return None
        if slot in skeleton.whole_href:
            url = html_lib.unescape(value).strip()
            if url.lower().startswith(("http://", "https://")) and url != unsubscribe_url:
                return None  # a personal link the full render would instrument
        if _is_html(value):
            if slot in skeleton.in_tag or BODY_END.search(value) or value.rfind("<") > value.rfind(">"):
                return None
            if unsubscribe_url and unsubscribe_url in value:
                return None
            chunk = skeleton.chunks.get(value)
            if chunk is None:
                if len(skeleton.chunks) >= _CHUNKS_MAX:
                    skeleton.chunks.clear()
                chunk = skeleton.chunks[value] = instrument_links(value, token=TOKEN, pattern=patterns()[0])
            html_values[slot] = chunk.replace(TOKEN, token)
            chunk_keys.append((slot, value))
    html = _fill(skeleton.html_pieces, html_values, token)
    text = None
    if not body.strip():
        text = _text(skeleton, values, tuple(chunk_keys))
        if text is None:  # this recipient's values change how the text reads: from their own HTML
            text = html_to_text(_fill(_pieces(skeleton.html), values))
    return {"subject": subject, "body": body, "html": html, "text": text}


def _text(skeleton: Skeleton, values: list, chunk_keys: tuple) -> str | None:
    text = skeleton.texts.get(chunk_keys)
    if text is None:
        chunks = dict(chunk_keys)
        filled = "".join(piece if n % 2 == 0 else (f"\x02{piece}\x03" if piece not in chunks else chunks[piece])
                         for n, piece in enumerate(_pieces(skeleton.html)))
        if len(skeleton.texts) >= _CHUNKS_MAX:
            skeleton.texts.clear()
        text = skeleton.texts[chunk_keys] = html_to_text(filled)
    forms = {}
    for match in MARKER.finditer(text):
        slot = int(match.group(1))
        if slot not in forms:
            form = _text_form(values[slot])
            if form is None or slot in skeleton.text_data and form.lower().startswith(LINK_LIKE):
                return None
            forms[slot] = form
    return MARKER.sub(lambda m: forms[int(m.group(1))], text) if forms else text


# --- the cache ---------------------------------------------------------------------------------

def _fingerprint(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Model):
        return (value._meta.label, value.pk, str(getattr(value, "updated_at", "")))
    raise Unsupported(f"a shared value of type {type(value).__name__}")


def skeleton_for(key: tuple, templates: dict, context: dict, stored_ids: dict) -> Skeleton | None:
    """The skeleton for this recipient (``context``) of this template (``key``: its code and
    sources) with these shared values — made once per process and recipient group; None when
    the template or this recipient's group needs the full render."""
    shared = (SHARED_NAMES | set(stored_ids)) & set(context)
    try:
        cache_key = (key, json.dumps(stored_ids, sort_keys=True, default=str),
                     tuple(sorted((name, _fingerprint(context[name])) for name in shared)))
    except Unsupported:
        return None
    if cache_key not in _CACHE:
        try:
            family = family_make(templates, context, shared)
        except Unsupported as reason:
            logger.info("template %s is rendered per message: %s", key[0], reason)
            family = None
        except Exception:  # noqa: BLE001 - the full render reports template errors with their reason
            family = None
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[cache_key] = family
    family = _CACHE[cache_key]
    if family is None:
        return None
    try:
        return family.skeleton(context)
    except Exception:  # noqa: BLE001 - e.g. a condition that raises: the full render says why
        return None
