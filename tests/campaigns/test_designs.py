"""E-mail designs composed in Wagtail, rendered per recipient through the outbox: every block,
CSS inlined, absolute links, the plain-text part, the unsubscribe footer, and a broken design
as a clear reason (editor, preview) or a dead letter (send), never a 500."""

import io
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from campaigns.design_rendering import RenderError, design_render, preview_context
from campaigns.designs_models import EmailDesign
from campaigns.models import Message
from campaigns.outbox import message_deliver, message_enqueue
from campaigns.rendering import render
from recommender.tokens import read_token
from recommender.training import train_version
from tests.helpers import place_order

pytestmark = pytest.mark.django_db
BASE = "https://shop.example.com"


@pytest.fixture(autouse=True)
def links(settings, tmp_path):
    settings.CAMPAIGNS_BASE_URL = BASE
    settings.RECOMMENDER_EMAIL_BASE_URL = BASE
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CAMPAIGNS_QUIET_HOURS = None  # the tests send at any hour
    settings.CAMPAIGNS_FREQUENCY_CAP_HOURS = 0


def _wagtail_image(title="Winter banner", size=(1200, 400)):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image as PILImage
    from wagtail.images.models import Image

    buffer = io.BytesIO()
    PILImage.new("RGB", size, "navy").save(buffer, format="PNG")
    return Image.objects.create(title=title, file=SimpleUploadedFile("banner.png", buffer.getvalue()))


def _design(slug="winter", body=None, **fields) -> EmailDesign:
    design = EmailDesign(name=slug.title(), slug=slug, subject=fields.pop("subject", "Hello {{ customer.first_name|default:'there' }}"),
                         preheader=fields.pop("preheader", "Preheader for {{ customer.first_name }}"), body=body or [
                             {"type": "text", "value": "<p>Hi there</p>"}], **fields)
    design.full_clean()
    design.save()
    design.save_revision().publish()
    return design


def _marketing(customer, template, **context):
    from ecrm.consents import consent_record

    consent_record(profile=customer, channel="email", topic="all", granted=True, source="test")
    message, _ = message_enqueue(key=f"test:{template}:{customer.person_key}", source_kind="test",
                                 kind=Message.MARKETING, topic="offers", person_key=customer.person_key,
                                 user=customer.user, to_email=customer.email, template=template, context=context)
    return message


def test_every_block_renders_into_inlined_table_html_with_absolute_links(customer, shop, django_capture_on_commit_callbacks):
    products, _users = shop
    train_version()
    image = _wagtail_image()
    order = place_order(products["tea"], products["cup"], user=customer.user)
    _design(body=[
        {"type": "text", "value": '<h2>Winter</h2><p>Hi {{ customer.first_name }}, see <a href="/catalogue/">what is new</a>.</p>'},
        {"type": "image", "value": {"image": image.pk, "alt": "", "width": 500, "link": "/offers/"}},
        {"type": "button", "value": {"text": "Shop now", "link": "/catalogue/", "colour": "#0b5cad", "align": "center"}},
        {"type": "product_grid", "value": {"heading": "Chosen", "source": "chosen", "products": [products["mug"].pk],
                                           "category": None, "count": 4, "columns": 2}},
        {"type": "product_grid", "value": {"heading": "From the message", "source": "message", "products": [],
                                           "category": None, "count": 4, "columns": 2}},
        {"type": "recommendations", "value": {"heading": "Picked for you", "slot": "for_you", "count": 2, "columns": 2}},
        {"type": "voucher", "value": {"heading": "A gift", "text": "Use it at checkout."}},
        {"type": "order_summary", "value": {"heading": "Your order", "show_status": True}},
        {"type": "spacer", "value": {"height": 24, "line": True}},
    ])
    from oscar.test.factories import create_voucher

    voucher = create_voucher(code="WINTER10")
    message = _marketing(customer, "design:winter", order_id=order.pk, product_ids=[products["green-tea"].pk],
                         voucher_code="WINTER10")
    rendered = render(message)
    html, text = rendered["html"], rendered["text"]
    assert rendered["subject"] == "Hello Ada"
    assert "Preheader for Ada" in html and "Hi Ada, see" in html
    # CSS inlined: styles on the elements; only the narrow-screen @media rule stays in <style>.
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
    assert all(style.strip().startswith("@media") for style in styles)
    assert re.search(r'<td class="masthead" style="[^"]*font-weight: bold', html)
    assert re.search(r'<a class="button" href="[^"]+" style="[^"]*padding: 12px 24px;[^"]*background-color: #0b5cad', html)
    assert re.search(r'<p style="margin: 0 0 12px 0;">Hi Ada', html)
    assert 'role="presentation"' in html and html.count("<table") >= 5
    # Links and images absolute; the image a 2x rendition at the chosen width.
    assert 'href="/' not in html and 'src="/' not in html
    assert f'href="{BASE}/catalogue/?utm_source=email&amp;utm_medium=email&amp;utm_campaign=design-winter"' in html
    (img,) = re.findall(r'<img [^>]*alt="Winter banner"[^>]*>', html)
    assert re.search(f'src="{BASE}/media/images/[^"]+\\.width-1000\\.png"', img) and 'width="500"' in img
    assert "width: 500px" in img and "max-width: 100%" in img
    assert f'href="{BASE}/offers/?utm_source=email' in html.replace("&amp;", "&")
    # Products: chosen, the message's own, recommendations with attribution tokens for email:<slug>.
    assert ">mug<" in html and ">green-tea<" in html
    tokens = [read_token(parse_qs(urlsplit(url.replace("&amp;", "&")).query)["ecrm_token"][0])
              for url in re.findall(r'href="([^"]*ecrm_token=[^"]*)"', html)]
    assert tokens and {token["slot"] for token in tokens} == {"email:winter"}
    # Voucher and order summary from the message's context.
    assert "WINTER10" in html and "A gift" in html and "20.00% discount on All products" in html
    assert f"Valid until {voucher.end_datetime:%-d %B %Y}" in html
    assert str(order.number) in html and "£10.00" in html and "/campaigns/order/" in html
    # The unsubscribe link in the footer, and in the headers.
    assert "/campaigns/unsubscribe/" in html and "Unsubscribe</a>" in html
    # The plain-text part: generated, links written out, recommendations in the recommender's words.
    assert text.startswith("Oscar Outfitters") and "Hi Ada, see what is new (https://shop.example.com/catalogue/" in text
    assert "Picked for you\n\n- tea (£5.00)\n  https://shop.example.com/catalogue/" in text
    assert "Chosen\n\n- mug (£5.00)\n  https://shop.example.com/catalogue/mug" in text and "WINTER10" in text and str(order.number) in text
    assert "Unsubscribe: https://shop.example.com/campaigns/unsubscribe/" in text and "<" not in text
    assert "Preheader for Ada" not in text
    # Sent through the outbox like any message.
    message_deliver(message.pk)
    message.refresh_from_db()
    assert message.status == Message.SENT and message.subject == "Hello Ada"
    (email,) = mail.outbox
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.alternatives[0][0] == message.body_html and email.body == message.body_text


def test_subject_is_plain_text_and_text_blocks_escape_values(customer):
    customer.first_name = "Tom & <Jerry>"
    design = _design(slug="escape", subject="Hi {{ customer.first_name }}", preheader="For {{ customer.first_name }}",
                     body=[{"type": "text", "value": "<p>Dear {{ customer.first_name }}</p>"}])
    rendered = design_render(design, preview_context(customer=customer), preview=True)
    assert rendered["subject"] == "Hi Tom & <Jerry>"
    assert "Dear Tom &amp; &lt;Jerry&gt;" in rendered["html"] and "For Tom &amp; &lt;Jerry&gt;" in rendered["html"]
    assert "<Jerry>" not in rendered["html"] and "Dear Tom & <Jerry>" in rendered["text"]


def test_blocks_with_nothing_to_show_are_left_out(customer):
    design = _design(body=[{"type": "text", "value": "<p>News</p>"},
                           {"type": "voucher", "value": {"heading": "A gift", "text": ""}},
                           {"type": "order_summary", "value": {"heading": "Your order", "show_status": True}}])
    rendered = design_render(design, preview_context(customer=customer), preview=True)
    assert "A gift" not in rendered["html"] and "Your order" not in rendered["html"]
    assert "News" in rendered["text"]


def test_a_template_error_is_a_clear_message_when_saving():
    design = EmailDesign(name="Broken", slug="broken", subject="Hi {{ customer.first_name|nosuchfilter }}",
                         preheader="{% if %}", body=[{"type": "text", "value": "<p>{% for x in %}</p>"},
                                                    {"type": "button", "value": {"text": "Go", "link": "{{ status_url|nosuch }}",
                                                                                 "colour": "#000000", "align": "left"}}])
    with pytest.raises(ValidationError) as caught:
        design.full_clean()
    errors = caught.value.message_dict
    assert "Invalid filter: 'nosuchfilter'" in errors["subject"][0]
    assert errors["preheader"][0].startswith("Preheader: template error")
    assert any(e.startswith("Block 1 (Text), text: template error") for e in errors["body"])
    assert any(e.startswith("Block 2 (Button), button link: template error") for e in errors["body"])


def test_a_design_that_fails_at_send_time_is_a_dead_letter_with_the_reason(customer):
    design = _design(slug="fails")
    # A block whose image was deleted from the library after the design was published.
    image = _wagtail_image()
    EmailDesign.objects.filter(pk=design.pk).update(body=[
        {"type": "image", "value": {"image": image.pk, "alt": "", "width": 600, "link": ""}}])
    image.delete()
    message = _marketing(customer, "design:fails")
    assert message_deliver(message.pk) == "dead letter"
    message.refresh_from_db()
    assert message.status == Message.DEAD and not mail.outbox
    assert "design fails: block 1 (Image) failed: the image was deleted from the image library: choose another" == message.last_error
    unknown = _marketing(customer, "design:nope")
    message_deliver(unknown.pk)
    unknown.refresh_from_db()
    assert unknown.status == Message.DEAD and "no e-mail design with slug 'nope'" in unknown.last_error


def test_only_the_published_version_is_sent(customer):
    design = _design(slug="news", subject="Published subject")
    design.subject = "Draft subject"
    design.save_revision()  # saved as a draft in Wagtail, not published
    message = _marketing(customer, "design:news")
    assert render(message)["subject"] == "Published subject"
    EmailDesign.objects.filter(pk=design.pk).update(live=False)
    with pytest.raises(RenderError, match="is not published yet"):
        render(message)


def test_oscar_event_types_still_render(customer, marketing_template):
    message = _marketing(customer, "WINTER_NEWS")
    assert render(message)["subject"] == "Winter news for Ada"


def test_starter_designs_exist_after_migrate_and_render(customer):
    from campaigns.design_setup import starter_designs_ensure

    starter_designs_ensure()
    slugs = set(EmailDesign.objects.filter(live=True).values_list("slug", flat=True))
    assert {"gift-guide", "basket-reminder", "order-thanks"} <= slugs
    assert starter_designs_ensure() == []  # never twice, never over a marketer's edits
    gift = EmailDesign.objects.get(slug="gift-guide")
    rendered = design_render(gift, preview_context(customer=customer), preview=True)
    assert rendered["subject"] == "Ada, your gift guide is here" and "See the whole catalogue" in rendered["html"]


def test_product_grid_newest_in_a_category_and_its_validation(customer):
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product
    from wagtail.blocks import StructBlockValidationError

    from campaigns.design_blocks import ProductGridBlock

    category = create_from_breadcrumbs("Garden > Tools")
    for title in ("Rake", "Spade", "Hoe"):
        product = create_product(title=title, price=Decimal("9.00"), num_in_stock=5)
        get_model("catalogue", "ProductCategory").objects.create(product=product, category=category)
    create_product(title="Elsewhere", price=Decimal("9.00"), num_in_stock=5)
    design = _design(slug="garden", body=[{"type": "product_grid", "value": {
        "heading": "New in the garden", "source": "newest", "products": [], "category": category.pk,
        "count": 2, "columns": 2}}])
    html = design_render(design, preview_context(customer=customer), preview=True)["html"]
    assert ">Hoe<" in html and ">Spade<" in html and ">Rake<" not in html and "Elsewhere" not in html
    block = ProductGridBlock()
    with pytest.raises(StructBlockValidationError):
        block.clean(block.to_python({"heading": "", "source": "chosen", "products": [], "category": None,
                                     "count": 4, "columns": 2}))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_a_design_message(customer, site_pages, mail_workers):
    """The worker process renders the design itself (Wagtail, css-inline, the recommender)."""
    from oscar.test.factories import create_product

    from campaigns.design_setup import starter_designs_ensure
    from tests.campaigns.conftest import sent_mail
    from tests.helpers import wait_for

    starter_designs_ensure()
    order = place_order(create_product(title="Kettle", price=Decimal("20.00"), num_in_stock=5), user=customer.user)
    mail_workers("ok")
    message, _ = message_enqueue(key=f"test:thanks:{order.pk}", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, user=customer.user, to_email=customer.email,
                                 template="design:order-thanks", context={"order_id": order.pk})
    assert wait_for(lambda: Message.objects.get(pk=message.pk).status == Message.SENT, timeout=60)
    (email,) = sent_mail(mail_workers.folder)
    assert email["Subject"] == f"Thank you for your order {order.number}" and "List-Unsubscribe" not in email
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "Kettle" in html and "£20.00" in html and 'class="masthead" style="' in html
    assert "This message is about your account or order" in html  # transactional: no unsubscribe footer
    assert "Kettle" in email.get_body(preferencelist=("plain",)).get_content()
