"""Import a previous system's order history (a CSV of order lines) as Oscar orders.

Profiles and the recommender read Oscar's orders, so the quickest way to give them a
store's history is to make those orders real ``order.Order``/``order.Line`` rows. The
work is split in two so the rules can be tested without a database:

* ``parse_text`` (pure): the header, every row checked, rows grouped into orders; a
  problem with the whole file raises ``ImportFileError``, a bad row becomes a
  ``Refusal`` with its line number and the rest go on. An order is imported whole or
  not at all: one bad row, or rows that disagree on the customer, date, currency or
  status, refuse every row of that order.
* ``import_orders`` (writes): each order in its own transaction, numbers that already
  exist skipped (so running a file again adds nothing), then the people concerned have
  their profiles recomputed.

Oscar's ``order_placed`` signal is not sent: historic orders must not raise "Order
Completed" events or confirmation e-mails. An ``OrderNote`` on every order says where it
came from, and the original order number is kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from oscar.core.loading import get_model

from ecrm.services import profiles_refresh
from tracking.graph import guest_person

REQUIRED = ("email", "order_number", "date", "sku", "quantity", "price")
OPTIONAL = ("currency", "status", "title")
MAX_AMOUNT = Decimal("9999999999.99")  # Oscar's prices: 12 digits, 2 after the point
CHUNK = 1000  # orders looked up and written per round, and the progress step
REFRESH_BATCH = 500  # people per profiles_refresh call, as ecrm_rebuild_profiles
NOTE = "Imported from "  # how an imported order is told from one placed in the store

Progress = Callable[[str], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported (missing, unreadable, not UTF-8, no
    header or required columns, no rows); nothing is written."""


class RowError(ValueError):
    """One row cannot be imported; the message says why."""


@dataclass(frozen=True)
class StoreRules:
    """What the store accepts, from settings, passed in so parsing needs no settings."""

    currency: str
    status: str
    statuses: tuple[str, ...]  # empty: any status
    tz: tzinfo
    now: datetime


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    email: str
    placed: datetime
    currency: str
    status: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal

    @property
    def line_price(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class HistoricOrder:
    number: str
    rows: list[Row]

    @property
    def first(self) -> Row:
        return self.rows[0]

    @property
    def total(self) -> Decimal:
        return sum((row.line_price for row in self.rows), Decimal("0.00"))


@dataclass(frozen=True)
class Refusal:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedFile:
    orders: list[HistoricOrder]
    refusals: list[Refusal]


@dataclass
class Summary:
    imported: int = 0
    lines: int = 0
    skipped: int = 0
    unknown_skus: set[str] = field(default_factory=set)
    unlinked_lines: int = 0  # lines whose SKU is not in the catalogue
    registered: set[str] = field(default_factory=set)  # person keys of imported orders
    guests: set[str] = field(default_factory=set)
    refreshed: int = 0
    clashes: list[Refusal] = field(default_factory=list)  # numbers taken by the store's own orders


# Reading and checking (no database) -------------------------------------------------------------

def store_rules() -> StoreRules:
    """The store's currency, statuses and time zone. Imported orders are history, so
    they default to the pipeline's delivered state rather than the initial one."""
    statuses = tuple(getattr(settings, "OSCAR_ORDER_STATUS_PIPELINE", {}) or ())
    status = "Delivered" if not statuses or "Delivered" in statuses else "Complete"
    return StoreRules(currency=settings.OSCAR_DEFAULT_CURRENCY, status=status, statuses=statuses,
                      tz=timezone.get_default_timezone(), now=timezone.now())


def read_text(path: str | Path) -> str:
    """The whole file, decoded, so an encoding problem stops the import before any write."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a directory, not a CSV file") from None
    except OSError as error:
        raise ImportFileError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportFileError(f"{path}: not UTF-8 text (first bad byte on line {line}); "
                              "save it as CSV UTF-8 and try again") from None


def parse_file(path: str | Path, rules: StoreRules) -> ParsedFile:
    text = read_text(path)
    try:
        return parse_text(text, rules)
    except ImportFileError as error:
        raise ImportFileError(f"{path}: {error}") from None


def parse_text(text: str, rules: StoreRules) -> ParsedFile:
    """Every row checked and grouped into orders, in the file's order."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileError("the file is empty (expected a header: " + ",".join(REQUIRED) + ")")
        columns, keys = _columns(header), header_keys(header)
        rows, refusals, bad_numbers = [], [], {}
        end = reader.line_num
        for record in reader:
            line, end = end + 1, reader.line_num  # where the (possibly multi-line) record starts
            if not any(cell.strip() for cell in record):
                continue
            number = record[columns["order_number"]].strip() if len(record) > columns["order_number"] else ""
            try:
                if len(record) != len(header):
                    raise RowError(f"expected {len(header)} fields, found {len(record)}")
                rows.append(parse_row(line, dict(zip(keys, record)), rules))
            except RowError as error:
                refusals.append(Refusal(line, str(error)))
                if number:
                    bad_numbers.setdefault(number, []).append(line)
    except csv.Error as error:
        raise ImportFileError(f"not a readable CSV file (line {reader.line_num}: {error})") from None
    if not rows and not refusals:
        raise ImportFileError("the file has a header but no rows")
    orders, more = group_orders(rows, bad_numbers)
    return ParsedFile(orders=orders, refusals=sorted(refusals + more, key=lambda r: r.line))


def header_keys(header: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in header]


def _columns(header: list[str]) -> dict[str, int]:
    keys = header_keys(header)
    duplicated = sorted({key for key in keys if key and keys.count(key) > 1})
    if duplicated:
        raise ImportFileError("column(s) given twice: " + ", ".join(duplicated))
    missing = [column for column in REQUIRED if column not in keys]
    if missing:
        hint = " (the file looks separated by semicolons; use commas)" if ";" in header[0] else ""
        raise ImportFileError(f"missing column(s): {', '.join(missing)}; the header needs "
                              f"{','.join(REQUIRED)}{hint}")
    return {key: keys.index(key) for key in keys if key}


def parse_row(line: int, values: dict[str, str], rules: StoreRules) -> Row:
    """One order line, or ``RowError`` naming everything wrong with it."""
    cell = {key: (value or "").strip() for key, value in values.items()}
    problems, parsed = [], {}
    checks = (("number", _number, cell["order_number"]), ("email", _email, cell["email"]),
              ("placed", lambda v: _placed(v, rules), cell["date"]), ("sku", _sku, cell["sku"]),
              ("quantity", _quantity, cell["quantity"]), ("unit_price", _price, cell["price"]),
              ("currency", _currency, cell.get("currency") or rules.currency),
              ("status", lambda v: _status(v, rules), cell.get("status") or rules.status))
    for name, check, value in checks:
        try:
            parsed[name] = check(value)
        except RowError as error:
            problems.append(str(error))
    if not problems and parsed["unit_price"] * parsed["quantity"] > MAX_AMOUNT:
        problems.append("price × quantity is too large")
    if problems:
        raise RowError("; ".join(problems))
    return Row(line=line, title=cell.get("title", "")[:255], **parsed)


def _number(value: str) -> str:
    if not value:
        raise RowError("order_number is empty")
    if len(value) > 128:
        raise RowError("order_number is longer than 128 characters")
    return value


def _email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError:
        raise RowError(f"email {value!r} is not an e-mail address" if value else "email is empty") from None
    if len(value) > 254:
        raise RowError("email is longer than 254 characters")
    return value


def _placed(value: str, rules: StoreRules) -> datetime:
    try:
        placed = datetime.fromisoformat(value)
    except ValueError:
        raise RowError(f"date {value!r} is not ISO 8601 (YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS][+HH:MM])"
                       if value else "date is empty") from None
    if timezone.is_naive(placed):
        placed = timezone.make_aware(placed, rules.tz)
    if placed > rules.now:
        raise RowError(f"date {value!r} is in the future")
    return placed


def _sku(value: str) -> str:
    if not value:
        raise RowError("sku is empty")
    if len(value) > 128:
        raise RowError("sku is longer than 128 characters")
    return value


def _quantity(value: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", value) or int(value) < 1 or int(value) > 2_147_483_647:
        raise RowError(f"quantity {value!r} is not a positive whole number" if value else "quantity is empty")
    return int(value)


def _price(value: str) -> Decimal:
    try:
        price = Decimal(value)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite():
        raise RowError(f"price {value!r} is not a number (use a point for decimals, no currency sign)"
                       if value else "price is empty")
    if price < 0:
        raise RowError(f"price {value!r} is negative")
    if price > MAX_AMOUNT:
        raise RowError(f"price {value!r} is too large")
    if price != price.quantize(Decimal("0.01")):
        raise RowError(f"price {value!r} has more than 2 decimal places")
    return price.quantize(Decimal("0.01"))


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise RowError(f"currency {value!r} is not a three-letter code")
    return value.upper()


def _status(value: str, rules: StoreRules) -> str:
    if not rules.statuses:
        return value[:100]
    for status in rules.statuses:
        if status.lower() == value.lower():
            return status
    raise RowError(f"status {value!r} is not one of the store's: {', '.join(rules.statuses)}")


def group_orders(rows: list[Row], bad_numbers: dict[str, list[int]]) -> tuple[list[HistoricOrder], list[Refusal]]:
    """Rows into orders; an order with a refused row, or whose rows disagree about the
    order itself, is refused whole (importing part of it would record a wrong total)."""
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.number, []).append(row)
    orders, refusals = [], []
    for number, members in grouped.items():
        if number in bad_numbers:
            reason = f"order {number} refused whole: line(s) {_lines(bad_numbers[number])} of it are refused"
        else:
            reason = _disagreement(number, members)
        order = HistoricOrder(number=number, rows=members)
        if not reason and order.total > MAX_AMOUNT:
            reason = f"order {number} refused whole: its total is too large"
        if reason:
            refusals.extend(Refusal(row.line, reason) for row in members)
        else:
            orders.append(order)
    return orders, refusals


def _disagreement(number: str, rows: list[Row]) -> str:
    facts = {"email": lambda r: r.email.lower(), "date": lambda r: r.placed,
             "currency": lambda r: r.currency, "status": lambda r: r.status}
    differing = [name for name, fact in facts.items() if len({fact(row) for row in rows}) > 1]
    if not differing:
        return ""
    return (f"order {number} refused whole: its rows (lines {_lines([r.line for r in rows])}) "
            f"disagree on {', '.join(differing)}")


def _lines(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


# Writing -------------------------------------------------------------------------------------

def import_orders(parsed: ParsedFile, *, source: str, progress: Progress | None = None) -> Summary:
    """Write the parsed orders (each in its own transaction), then refresh the profiles
    of everybody in the file.

    A number already imported is skipped; a number taken by an order placed in this
    store is a clash, reported by line and not imported (the history may be someone
    else's order with the same number).

    People whose orders were skipped are refreshed too: a run interrupted after writing
    orders is then completed by running the same file again.
    """
    Order = get_model("order", "Order")
    summary, people = Summary(), set()
    site_id = settings.SITE_ID if Site.objects.filter(pk=settings.SITE_ID).exists() else None
    for start in range(0, len(parsed.orders), CHUNK):
        chunk = parsed.orders[start:start + CHUNK]
        existing = set(Order.objects.filter(number__in=[o.number for o in chunk]).values_list("number", flat=True))
        clashing = existing - set(Order.objects.filter(number__in=existing, notes__message__startswith=NOTE)
                                  .values_list("number", flat=True))
        customers = _customers({order.first.email.lower() for order in chunk})
        catalogue = _catalogue({row.sku for order in chunk for row in order.rows})
        for order in chunk:
            if order.number in clashing:
                summary.clashes.extend(Refusal(row.line, f"order number {order.number} belongs to an order "
                                                         "placed in this store; not imported") for row in order.rows)
                continue
            user = customers.get(order.first.email.lower())
            person = str(user.pk) if user else guest_person(order.first.email)
            people.add(person)
            if order.number in existing or not _write(order, user, catalogue, source, site_id):
                summary.skipped += 1
                continue
            summary.imported += 1
            summary.lines += len(order.rows)
            (summary.registered if user else summary.guests).add(person)
            unknown = [row.sku for row in order.rows if row.sku not in catalogue]
            summary.unlinked_lines += len(unknown)
            summary.unknown_skus.update(unknown)
        if progress:
            progress(f"{start + len(chunk):,} of {len(parsed.orders):,} orders")
    summary.refreshed = refresh_profiles(people, progress=progress)
    return summary


def _customers(emails: set[str]) -> dict:
    """Accounts by lower-cased e-mail (the oldest account when several share one)."""
    found = {}
    users = get_user_model().objects.annotate(address=Lower("email")).filter(address__in=emails).order_by("pk")
    for user in users:
        found.setdefault(user.address, user)
    return found


def _catalogue(skus: set[str]) -> dict[str, tuple]:
    """(product, partner, partner SKU) by imported SKU: the product's UPC first, then a
    partner's SKU. Old SKUs may be gone; those lines are imported without a product."""
    Product, StockRecord = get_model("catalogue", "Product"), get_model("partner", "StockRecord")
    found = {}
    for record in StockRecord.objects.filter(product__upc__in=skus).select_related("product", "partner").order_by("pk"):
        found.setdefault(record.product.upc, (record.product, record.partner, record.partner_sku))
    for product in Product.objects.filter(upc__in=skus - set(found)):
        found[product.upc] = (product, None, product.upc)
    for record in (StockRecord.objects.filter(partner_sku__in=skus - set(found))
                   .select_related("product", "partner").order_by("pk")):
        found.setdefault(record.partner_sku, (record.product, record.partner, record.partner_sku))
    return found


def _write(order: HistoricOrder, user, catalogue: dict, source: str, site_id) -> bool:
    """Create one order, its lines and its note; False when its number appeared meanwhile.

    Lines keep the product and partner but no stock record and nothing allocated:
    history must never move today's stock, whatever happens to the order later.
    """
    Order, Line, OrderNote = (get_model("order", name) for name in ("Order", "Line", "OrderNote"))
    first, total = order.first, order.total
    try:
        with transaction.atomic():
            record = Order.objects.create(
                number=order.number, site_id=site_id, user=user, guest_email="" if user else first.email,
                currency=first.currency, total_incl_tax=total, total_excl_tax=total,
                status=first.status, date_placed=first.placed)
            lines = []
            for row in order.rows:
                product, partner, sku = catalogue.get(row.sku, (None, None, row.sku))
                lines.append(Line(
                    order=record, partner=partner, partner_name=partner.name if partner else "",
                    partner_sku=sku, product=product,
                    title=(product.get_title() if product else "") or row.title or row.sku,
                    upc=product.upc if product else row.sku, quantity=row.quantity,
                    line_price_incl_tax=row.line_price, line_price_excl_tax=row.line_price,
                    line_price_before_discounts_incl_tax=row.line_price,
                    line_price_before_discounts_excl_tax=row.line_price,
                    unit_price_incl_tax=row.unit_price, unit_price_excl_tax=row.unit_price,
                    status=row.status, num_allocated=0))
            Line.objects.bulk_create(lines)
            OrderNote.objects.create(order=record, note_type=OrderNote.SYSTEM,
                                     message=f"{NOTE}{source} (historic order; prices as given, "
                                             "tax not separated).")
    except IntegrityError:
        if Order.objects.filter(number=order.number).exists():
            return False  # another import of the same file got there first
        raise
    return True


def refresh_profiles(people: set[str], *, progress: Progress | None = None) -> int:
    """Recompute these people's profiles in batches; returns how many were refreshed."""
    ordered, refreshed = sorted(people), 0
    for start in range(0, len(ordered), REFRESH_BATCH):
        refreshed += profiles_refresh(person_keys=set(ordered[start:start + REFRESH_BATCH]))
        if progress:
            progress(f"{min(start + REFRESH_BATCH, len(ordered)):,} of {len(ordered):,} profiles refreshed")
    return refreshed
