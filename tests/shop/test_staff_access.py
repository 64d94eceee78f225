"""Staff log in to Oscar's dashboard and Wagtail's admin; each role sees what it should."""

import pytest

from shop.roles import MARKETING, SUPPORT

pytestmark = pytest.mark.django_db


def _log_in(client, email: str, password: str):
    """Through Oscar's login form, as a person would."""
    return client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": password, "login_submit": "Log In"},
    )


def test_superuser_logs_in_through_the_dashboard_login_form(client, make_staff):
    make_staff("boss@example.com", superuser=True)
    response = _log_in(client, "boss@example.com", "pw-12345!")
    assert response.status_code == 302
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert "Dashboard" in dashboard.content.decode()
    assert client.get("/cms/").status_code == 200
    assert client.get("/django-admin/").status_code == 200


def test_wrong_password_does_not_open_the_dashboard(client, make_staff):
    make_staff("boss@example.com", superuser=True)
    response = _log_in(client, "boss@example.com", "wrong")
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/dashboard/").status_code == 302


def test_wagtail_admin_login_form_accepts_staff(client, make_staff):
    make_staff("maya@example.com", group=MARKETING)
    response = client.post("/cms/login/", {"username": "maya@example.com", "password": "pw-12345!"})
    assert response.status_code == 302
    assert client.get("/cms/").status_code == 200


def test_marketing_uses_dashboard_and_wagtail_editor(client, make_staff):
    client.force_login(make_staff("maya@example.com", group=MARKETING))
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/offers/").status_code == 200
    assert client.get("/cms/").status_code == 200
    home_id = _home_page_id()
    assert client.get(f"/cms/pages/{home_id}/edit/").status_code == 200
    nav = client.get("/dashboard/").content.decode()
    assert 'href="/cms/"' in nav  # the "Content" entry of the dashboard menu


def test_support_uses_dashboard_orders_but_not_wagtail(client, make_staff):
    client.force_login(make_staff("sam@example.com", group=SUPPORT))
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/dashboard/orders/").status_code == 200
    assert client.get("/dashboard/users/").status_code == 200
    assert client.get("/cms/").status_code in (302, 403)
    nav = client.get("/dashboard/").content.decode()
    assert 'href="/cms/"' not in nav


def test_customer_cannot_open_staff_screens(client, site_pages):
    from django.contrib.auth import get_user_model

    customer = get_user_model().objects.create_user("c", "c@example.com", "pw-12345!")
    client.force_login(customer)
    assert client.get("/dashboard/").status_code in (302, 403)
    assert client.get("/cms/").status_code in (302, 403)
    assert client.get("/django-admin/").status_code == 302


def _home_page_id() -> int:
    from shop.pages.models import HomePage

    return HomePage.objects.get().id
