"""``ecrm_import_orders``: a previous system's order history becomes Oscar orders and profiles."""

import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from oscar.apps.order.signals import order_placed
from oscar.core.loading import get_model

from ecrm.importer import StoreRules, parse_text
from ecrm.models import Profile
from tests.conftest import ROOT
from tests.helpers import place_order, subprocess_env

Order, Line, OrderNote = (get_model("order", name) for name in ("Order", "Line", "OrderNote"))
LONDON = ZoneInfo("Europe/London")
RULES = StoreRules(currency="GBP", status="Delivered", statuses=("Pending", "Delivered", "Cancelled"),
                   tz=LONDON, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
HEADER = "email,order_number,date,sku,quantity,price\n"
GOOD = HEADER + (
    "grace@example.com,A-1001,2024-03-05,TEST-SKILLET-26,2,34.99\n"
    "grace@example.com,A-1001,2024-03-05,OLD-LID-26,1,9.50\n"
    "Ada@Example.com,A-1002,2024-07-01T14:30:00,TEST-SKILLET-26,1,30.00\n"
    "grace@example.com,A-1003,2024-09-10 08:00:00+00:00,TEST-SKILLET-26,1,34.99\n"
)


def _csv(tmp_path, text, name="history.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _import(path):
    """Run the command; (stdout, stderr, exit status) as a shell would see them."""
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("ecrm_import_orders", path, stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        err.write(f"CommandError: {error}\n")
        status = error.returncode
    return out.getvalue(), err.getvalue(), status


# Parsing: no database ---------------------------------------------------------------------------

def test_header_is_case_insensitive_in_any_order_and_naive_dates_are_store_time():
    parsed = parse_text("PRICE, Quantity ,SKU,Date,Order_Number,EMAIL,Status,Currency\n"
                        "12.5,3,X-1,2024-07-01 09:15,77,a@example.com,delivered,eur\n", RULES)
    (order,) = parsed.orders
    row = order.first
    assert (order.number, row.email, row.sku, row.quantity, row.unit_price) == ("77", "a@example.com", "X-1", 3,
                                                                                Decimal("12.50"))
    assert (row.status, row.currency, order.total) == ("Delivered", "EUR", Decimal("37.50"))
    assert row.placed == datetime(2024, 7, 1, 9, 15, tzinfo=LONDON)  # BST: 08:15 UTC
    assert not parsed.refusals


def test_a_bad_row_or_disagreeing_rows_refuse_their_whole_order_with_line_numbers():
    parsed = parse_text(HEADER + (
        "a@example.com,1,2024-01-05,S1,1,1.00\n"
        "a@example.com,1,2024-01-05,S2,0,1.00\n"        # line 3: bad quantity
        "b@example.com,2,2024-01-05,S1,1,1.00\n"
        "\n"                                             # blank lines are skipped
        "B@example.com,2,2024-01-06,S1,1,1.00\n"        # line 6: another date
        "c@example.com,3,2024-01-05,S1,1,1.999\n"       # line 7
        "d@example.com,4,next tuesday,S1,1,abc\n"        # line 8: two problems, one line
        "e@example.com,5,2030-01-01,S1,1,1\n"            # line 9: after RULES.now
        "f@example.com,6,2024-01-05,S1,1,1,extra\n"      # line 10
        "g@example.com,7,2024-01-05,S1,1,5\n"
    ), RULES)
    assert [order.number for order in parsed.orders] == ["7"]
    reasons = {refusal.line: refusal.reason for refusal in parsed.refusals}
    assert sorted(reasons) == [2, 3, 4, 6, 7, 8, 9, 10]
    assert reasons[3] == "quantity '0' is not a positive whole number"
    assert reasons[2] == "order 1 refused whole: line(s) 3 of it are refused"
    assert reasons[4] == reasons[6] == "order 2 refused whole: its rows (lines 4, 6) disagree on date"
    assert reasons[7] == "price '1.999' has more than 2 decimal places"
    assert "date 'next tuesday' is not ISO 8601" in reasons[8] and "price 'abc' is not a number" in reasons[8]
    assert reasons[9] == "date '2030-01-01' is in the future"
    assert reasons[10] == "expected 6 fields, found 7"
    assert str(parsed.refusals[0]).startswith("line 2: ")


def test_unknown_status_and_currency_are_row_errors():
    parsed = parse_text("email,order_number,date,sku,quantity,price,currency,status\n"
                        "a@example.com,1,2024-01-05,S1,1,1,GBP,Lost\n"
                        "a@example.com,2,2024-01-05,S1,1,1,pounds,\n", RULES)
    assert [str(r) for r in parsed.refusals] == [
        "line 2: status 'Lost' is not one of the store's: Pending, Delivered, Cancelled",
        "line 3: currency 'pounds' is not a three-letter code"]


# The command, against the database --------------------------------------------------------------

@pytest.mark.django_db
def test_a_good_file_creates_orders_and_profiles_without_order_placed(tmp_path, product_in_stock):
    ada = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    placed = []
    order_placed.connect(lambda sender, order, **kw: placed.append(order), weak=False, dispatch_uid="test-import")
    try:
        out, err, status = _import(_csv(tmp_path, GOOD))
    finally:
        order_placed.disconnect(dispatch_uid="test-import")
    assert (status, err, placed) == (0, "", [])
    assert "Imported 3 orders (4 lines); 0 already present, skipped; 0 rows refused." in out
    assert "Customers: 1 registered, 1 guests. Profiles refreshed: 2." in out

    first = Order.objects.get(number="A-1001")  # the original number, kept
    assert (first.user, first.guest_email, first.status, first.currency) == (None, "grace@example.com",
                                                                             "Delivered", "GBP")
    assert first.date_placed == datetime(2024, 3, 5, tzinfo=LONDON)
    assert first.total_incl_tax == Decimal("79.48")
    assert first.notes.get().message.startswith("Imported from history.csv")
    skillet = first.lines.get(upc="TEST-SKILLET-26")
    assert (skillet.product, skillet.quantity, skillet.line_price_incl_tax) == (product_in_stock, 2,
                                                                                Decimal("69.98"))
    assert skillet.stockrecord is None and skillet.num_allocated == 0  # history moves no stock
    # The e-mail matches the account whatever its case.
    assert Order.objects.get(number="A-1002").user == ada

    guest = Profile.objects.get(person_key="email:grace@example.com")
    assert (guest.order_count, guest.revenue) == (2, Decimal("114.47"))
    assert guest.last_order_at == datetime(2024, 9, 10, 8, tzinfo=timezone.utc)
    profile = Profile.objects.get(person_key=str(ada.pk))
    assert (profile.user, profile.order_count, profile.revenue) == (ada, 1, Decimal("30.00"))


@pytest.mark.django_db
def test_running_the_same_file_twice_changes_nothing(tmp_path, product_in_stock):
    path = _csv(tmp_path, GOOD)
    _import(path)
    counts = (Order.objects.count(), Line.objects.count(), OrderNote.objects.count(), Profile.objects.count())
    out, err, status = _import(path)
    assert (status, err) == (0, "")
    assert "Imported 0 orders (0 lines); 3 already present, skipped; 0 rows refused." in out
    assert (Order.objects.count(), Line.objects.count(), OrderNote.objects.count(),
            Profile.objects.count()) == counts == (3, 4, 3, 2)
    assert Profile.objects.get(person_key="email:grace@example.com").order_count == 2


@pytest.mark.django_db
def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(tmp_path, product_in_stock):
    out, err, status = _import(_csv(tmp_path, GOOD + (
        "not-an-address,B-1,2024-01-05,TEST-SKILLET-26,1,34.99\n"     # line 6
        "kim@example.com,B-2,2024-01-05,TEST-SKILLET-26,-2,34.99\n"   # line 7
        "kim@example.com,B-3,2024-01-05,TEST-SKILLET-26,1,34.99\n"    # lines 8 and 9 disagree
        "lee@example.com,B-3,2024-01-05,TEST-SKILLET-26,1,34.99\n"
    )))
    assert status == 1
    assert err.splitlines() == [
        "line 6: email 'not-an-address' is not an e-mail address",
        "line 7: quantity '-2' is not a positive whole number",
        "line 8: order B-3 refused whole: its rows (lines 8, 9) disagree on email",
        "line 9: order B-3 refused whole: its rows (lines 8, 9) disagree on email",
        "CommandError: 4 rows refused (listed above); the rest were imported.",
    ]
    assert "Imported 3 orders (4 lines); 0 already present, skipped; 4 rows refused." in out
    assert sorted(Order.objects.values_list("number", flat=True)) == ["A-1001", "A-1002", "A-1003"]


@pytest.mark.django_db
def test_an_unknown_sku_still_imports_the_line_without_a_product(tmp_path, product_in_stock):
    out, _err, status = _import(_csv(tmp_path, "email,order_number,date,sku,quantity,price,title\n"
                                     "kim@example.com,C-1,2023-11-30,GONE-WOK-30,1,45.00,Carbon steel wok\n"
                                     "kim@example.com,C-1,2023-11-30,GONE-SPATULA,3,4.00,\n"))
    assert status == 0
    assert "2 lines have a SKU that is not in the catalogue; they were imported without a product link: " \
           "GONE-SPATULA, GONE-WOK-30." in out
    lines = {line.upc: line for line in Line.objects.filter(order__number="C-1")}
    assert (lines["GONE-WOK-30"].product, lines["GONE-WOK-30"].title) == (None, "Carbon steel wok")
    assert (lines["GONE-SPATULA"].title, lines["GONE-SPATULA"].line_price_incl_tax) == ("GONE-SPATULA",
                                                                                        Decimal("12.00"))
    assert Profile.objects.get(person_key="email:kim@example.com").revenue == Decimal("57.00")


@pytest.mark.django_db
@pytest.mark.parametrize("content, message", [
    (b"email,order_number,date,quantity\na@example.com,1,2024-01-05,1\n",
     "missing column(s): sku, price; the header needs email,order_number,date,sku,quantity,price"),
    (b"email;order_number;date;sku;quantity;price\n", "the file looks separated by semicolons; use commas"),
    (b"", "the file is empty"),
    (b"\n\n", "the file is empty"),
    (HEADER.encode(), "the file has a header but no rows"),
    (HEADER.encode() + "zoë@example.com,1,2024-01-05,S1,1,1\n".encode("latin-1"),
     "not UTF-8 text (first bad byte on line 2)"),
    (None, "no such file"),
])
def test_a_file_that_cannot_be_imported_is_one_clear_error_and_nothing_is_written(tmp_path, content, message):
    path = tmp_path / "orders.csv"
    if content is not None:
        path.write_bytes(content)
    out, err, status = _import(str(path))
    assert status == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"CommandError: {path}: ") and message in line
    assert not Order.objects.exists() and not Profile.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_from_the_shell_a_bad_file_exits_2_with_one_line(tmp_path):
    path = _csv(tmp_path, "email,date\n")
    result = subprocess.run([sys.executable, "manage.py", "ecrm_import_orders", path], cwd=ROOT,
                            env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {path}: missing column(s): order_number, sku, quantity, price; "
        "the header needs email,order_number,date,sku,quantity,price"]


@pytest.mark.django_db
def test_a_number_taken_by_an_order_placed_in_the_store_is_refused_not_skipped(
    tmp_path, countries, product_in_stock
):
    store_order = place_order(product_in_stock, number="A-1002", guest_email="someone@example.com")
    out, err, status = _import(_csv(tmp_path, GOOD))
    assert status == 1
    assert err.splitlines()[0] == "line 4: order number A-1002 belongs to an order placed in this store; not imported"
    assert "Imported 2 orders (3 lines); 0 already present, skipped; 1 rows refused." in out
    store_order.refresh_from_db()
    assert (store_order.guest_email, store_order.notes.count()) == ("someone@example.com", 0)


@pytest.mark.django_db
def test_a_spreadsheet_export_with_a_byte_order_mark_and_crlf_lines_imports(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffEmail,Order_Number,Date,SKU,Quantity,Price,Title\r\n"
                     "zoe@example.com,E-1,2022-02-02,OLD-1,1,5.00,Crème brûlée dish\r\n".encode())
    out, err, status = _import(str(path))
    assert (status, err) == (0, "")
    assert Line.objects.get(order__number="E-1").title == "Crème brûlée dish"


def test_an_order_whose_total_does_not_fit_is_refused_whole():
    parsed = parse_text(HEADER + "a@example.com,1,2024-01-05,S1,1,9999999999.00\n"
                                 "a@example.com,1,2024-01-05,S2,1,9999999999.00\n", RULES)
    assert not parsed.orders
    assert [str(r) for r in parsed.refusals] == ["line 2: order 1 refused whole: its total is too large",
                                                 "line 3: order 1 refused whole: its total is too large"]


@pytest.mark.django_db
def test_staff_see_an_imported_order_and_its_note_in_the_dashboard(tmp_path, client, make_staff, product_in_stock):
    from django.urls import reverse

    _import(_csv(tmp_path, GOOD))
    client.force_login(make_staff("boss@example.com", superuser=True))
    page = client.get(reverse("dashboard:order-detail", kwargs={"number": "A-1001"}))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Imported from history.csv" in text and "OLD-LID-26" in text
