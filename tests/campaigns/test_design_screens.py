"""The screens around e-mail designs: composing in Wagtail (errors in the editor, the live
preview panel), the dashboard's preview as a chosen customer and test send (permissions,
CSRF, never counted), and the demo's sent-mail folder and its viewer."""

import re
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.test import Client

from campaigns.designs_models import EmailDesign
from campaigns.models import Message
from recommender.training import train_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def links(settings):
    settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    settings.RECOMMENDER_EMAIL_BASE_URL = "https://shop.example.com"


@pytest.fixture
def gift_guide(site_pages):
    from campaigns.design_setup import starter_designs_ensure

    starter_designs_ensure()
    return EmailDesign.objects.get(slug="gift-guide")


def _client(user, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def test_preview_as_a_chosen_customer_shows_their_name_and_recommendations(gift_guide, shop, make_staff):
    products, users = shop
    train_version()
    from ecrm.models import Profile
    from ecrm.services import profiles_refresh

    users[0].first_name, users[0].last_name = "Grace", "Hopper"
    users[0].save()
    profiles_refresh(person_keys={str(users[0].pk)})
    grace = Profile.objects.get(person_key=str(users[0].pk))
    client = _client(make_staff("marketer@example.com", group="Marketing"))
    url = f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/"
    found = client.get(url, {"q": "Hopper"})
    assert found.status_code == 200
    assert f"customer={grace.pk}" in found.content.decode() and "Grace Hopper" in found.content.decode()
    page = client.get(url, {"customer": grace.pk})
    body = page.content.decode()
    assert page.status_code == 200 and page.context["rendered"]["subject"] == "Grace, your gift guide is here"
    html = page.context["rendered"]["html"]
    assert "Picked for you" in html and ">tea<" in html and "ecrm_token=" in html  # her recommendations
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox" srcdoc="' in body
    assert "Picked for you" in page.context["rendered"]["text"]
    # A preview counts no impressions in the slot report.
    from recommender.attribution import slot_report

    assert not [row for row in slot_report(days=1) if row["slot"] == "email:gift-guide"]
    # Her latest order feeds an order summary; a sample voucher feeds the voucher block.
    thanks = EmailDesign.objects.get(slug="order-thanks")
    html = client.get(f"/dashboard/campaigns/designs/{thanks.pk}/preview/", {"customer": grace.pk}).context["rendered"]["html"]
    assert "Your order" in html and "£5.00" in html
    basket = EmailDesign.objects.get(slug="basket-reminder")
    html = client.get(f"/dashboard/campaigns/designs/{basket.pk}/preview/",
                      {"customer": grace.pk, "voucher": "on"}).context["rendered"]["html"]
    assert "PREVIEW-7KQ2" in html and "10% off your next order" in html


def test_a_test_send_reaches_the_staff_address_marked_and_uncounted(gift_guide, customer, make_staff):
    marketer = make_staff("marketer@example.com", group="Marketing")
    client = _client(marketer, csrf=True)
    page = client.get(f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/", {"customer": customer.pk})
    token = str(page.context["csrf_token"])
    url = f"/dashboard/campaigns/designs/{gift_guide.pk}/test/"
    assert client.post(url, {"customer": customer.pk, "to": "marketer@example.com"}).status_code == 403  # no CSRF token
    response = client.post(url, {"customer": customer.pk, "to": "marketer@example.com", "csrfmiddlewaretoken": token},
                           follow=True)
    assert response.status_code == 200 and "sent to marketer@example.com" in response.content.decode()
    (email,) = mail.outbox
    assert email.to == ["marketer@example.com"] and email.subject == "[Test] Ada, your gift guide is here"
    assert "design gift-guide, rendered for ada@example.com" in email.extra_headers["X-Campaigns-Test"]
    html = email.alternatives[0][0]
    assert "Hi Ada, we looked at what you like" in email.body and 'class="masthead" style="' in html
    # The unsubscribe link is the tester's own, never the customer's.
    from campaigns.tokens import read_unsubscribe_token

    unsubscribe = re.search(r"/campaigns/unsubscribe/([^/]+)/", email.extra_headers["List-Unsubscribe"]).group(1)
    assert read_unsubscribe_token(unsubscribe)["p"] == str(marketer.pk)
    assert not Message.objects.exists()  # no outbox row: never in results, never capped
    # Only staff addresses.
    response = client.post(url, {"customer": customer.pk, "to": "someone@else.example", "csrfmiddlewaretoken": token},
                           follow=True)
    assert "is not the address of a member of staff" in response.content.decode() and len(mail.outbox) == 1


def test_support_may_preview_but_not_send_tests_and_shoppers_are_kept_out(gift_guide, customer, make_staff):
    support = _client(make_staff("support@example.com", group="Support"))
    assert support.get(f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/").status_code == 200
    assert support.get("/dashboard/campaigns/designs/").status_code == 200
    assert support.post(f"/dashboard/campaigns/designs/{gift_guide.pk}/test/",
                        {"to": "support@example.com"}).status_code == 403
    assert not mail.outbox
    assert Client().get("/dashboard/campaigns/designs/").status_code == 302
    assert _client(customer.user).get(f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/").status_code in (302, 403)
    assert _client(customer.user).get("/cms/snippets/campaigns/emaildesign/").status_code in (302, 403)


def test_a_broken_design_is_explained_in_the_preview_and_a_test_is_not_sent(gift_guide, customer, make_staff):
    from wagtail.images.models import Image

    from tests.campaigns.test_designs import _wagtail_image

    image = _wagtail_image()
    EmailDesign.objects.filter(pk=gift_guide.pk).update(body=[
        {"type": "image", "value": {"image": image.pk, "alt": "", "width": 600, "link": ""}}])
    Image.objects.filter(pk=image.pk).delete()
    client = _client(make_staff("marketer@example.com", group="Marketing"))
    page = client.get(f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/", {"customer": customer.pk})
    assert page.status_code == 200
    assert "block 1 (Image) failed: the image was deleted from the image library" in page.context["error"]
    response = client.post(f"/dashboard/campaigns/designs/{gift_guide.pk}/test/",
                           {"customer": customer.pk, "to": "marketer@example.com"}, follow=True)
    assert "Not sent: design gift-guide: block 1 (Image) failed" in response.content.decode() and not mail.outbox


def test_wagtail_editor_refuses_a_broken_subject_and_previews_live(gift_guide, customer, make_staff):
    marketer = make_staff("marketer@example.com", group="Marketing")
    client = _client(marketer)
    listing = client.get("/cms/snippets/campaigns/emaildesign/")
    assert listing.status_code == 200 and "Gift guide" in listing.content.decode()
    assert f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/" in listing.content.decode()
    edit_url = f"/cms/snippets/campaigns/emaildesign/edit/{gift_guide.pk}/"
    editor = client.get(edit_url)
    assert editor.status_code == 200
    html = editor.content.decode()
    assert "Personal recommendations" in html and "Product grid" in html and "Order summary" in html
    assert f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/" in html  # the header button
    data = _form_data(subject="Hi {{ customer.first_name|nosuchfilter }}")
    saved = client.post(edit_url, data)
    assert saved.status_code == 200  # the form again, with the reason
    assert "Invalid filter: &#x27;nosuchfilter&#x27;" in saved.content.decode()
    gift_guide.refresh_from_db()
    assert gift_guide.subject != data["subject"]
    # The live preview panel renders the unsaved form for a sample customer, or says what is wrong.
    data = _form_data(subject="Preview for {{ customer.first_name }}")
    preview_url = f"/cms/snippets/campaigns/emaildesign/preview/{gift_guide.pk}/"
    assert client.post(preview_url, data).json()["is_valid"]
    shown = client.get(preview_url).content.decode()
    assert "<title>Preview for" in shown and "style=" in shown
    text = client.get(preview_url, {"mode": "text"}).content.decode()
    assert text.startswith("Subject: Preview for")


def _form_data(subject: str) -> dict:
    """The editor's form as the browser posts it (Wagtail's own helpers for StreamField)."""
    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    return nested_form_data({"name": "Gift guide", "slug": "gift-guide", "subject": subject, "preheader": "",
                             "body": streamfield([("text", rich_text("<p>Hi {{ customer.first_name }}</p>"))])})


def test_the_folder_backend_and_the_sent_mail_viewer(settings, tmp_path, gift_guide, customer, make_staff):
    from campaigns.design_preview import design_test_send

    settings.EMAIL_BACKEND = "campaigns.sent_mail.FolderEmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "sent")
    marketer = make_staff("marketer@example.com", group="Marketing")
    design_test_send(design=gift_guide, to_email="marketer@example.com", sender=marketer, customer=customer)
    (path,) = (tmp_path / "sent").glob("*.eml")
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "[Test] Ada, your gift guide is here" and parsed["List-Unsubscribe-Post"]
    client = _client(marketer)
    listing = client.get("/dashboard/campaigns/sent-mail/")
    assert listing.status_code == 200 and "[Test] Ada, your gift guide is here" in listing.content.decode()
    assert "/dashboard/campaigns/sent-mail/" in client.get("/dashboard/").content.decode()  # in the menu
    detail = client.get(f"/dashboard/campaigns/sent-mail/{path.name}/")
    body = detail.content.decode()
    assert detail.status_code == 200 and 'id="mail-frame" title="The HTML part" sandbox=' in body
    assert "List-Unsubscribe" in body and "X-Campaigns-Test" in body and "Ada, we looked at what you like" in body
    assert client.get("/dashboard/campaigns/sent-mail/..%2F..%2Fetc%2Fpasswd/").status_code == 404
    assert client.get("/dashboard/campaigns/sent-mail/0000000000000000000-" + "0" * 32 + ".eml/").status_code == 404
    shopper = _client(customer.user)
    assert shopper.get("/dashboard/campaigns/sent-mail/").status_code in (302, 403)
    # With a real mail server configured there is no folder to show.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert client.get("/dashboard/campaigns/sent-mail/").status_code == 404
    assert "/dashboard/campaigns/sent-mail/" not in client.get("/dashboard/").content.decode()


def test_picking_a_customer_needs_the_right_to_see_customers(gift_guide, customer, make_staff):
    from django.contrib.auth.models import Permission

    designer = make_staff("designer@example.com")
    designer.user_permissions.add(Permission.objects.get(codename="view_emaildesign"),
                                  Permission.objects.get(codename="send_test_emaildesign"))
    client = _client(designer)
    page = client.get(f"/dashboard/campaigns/designs/{gift_guide.pk}/preview/", {"q": "Ada", "customer": customer.pk})
    assert page.status_code == 200 and page.context["customer"] is None and "found" not in page.context
    assert page.context["rendered"]["subject"] == "Hello, your gift guide is here"  # nobody in particular
    client.post(f"/dashboard/campaigns/designs/{gift_guide.pk}/test/", {"customer": customer.pk,
                                                                         "to": "designer@example.com"})
    (email,) = mail.outbox
    assert "Ada" not in email.body and "rendered for nobody in particular" in email.extra_headers["X-Campaigns-Test"]


def test_the_product_and_category_choosers_search_oscars_catalogue(site_pages, product, make_staff):
    from oscar.apps.catalogue.categories import create_from_breadcrumbs

    create_from_breadcrumbs("Kitchen > Kettles")
    client = _client(make_staff("marketer@example.com", group="Marketing"))
    found = client.get("/cms/campaigns_product_chooser/", {"q": "kett"})
    assert found.status_code == 200 and "Kettle" in found.json()["html"]
    assert "Kettle" not in client.get("/cms/campaigns_product_chooser/results/", {"q": "nothing"}).content.decode()
    chosen = client.get(f"/cms/campaigns_product_chooser/chosen/{product.pk}/")
    assert chosen.json()["result"]["id"] == str(product.pk)
    assert "Kettles" in client.get("/cms/campaigns_category_chooser/", {"q": "kett"}).json()["html"]
