"""The Marketing and Support groups hold the intended permissions, and only those."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Page

from shop.roles import MARKETING, ROLE_PERMISSIONS, SUPPORT, sync_role_groups

pytestmark = pytest.mark.django_db


def _user_in(group_name: str):
    user = get_user_model().objects.create_user(
        username=f"{group_name}@example.com", email=f"{group_name}@example.com",
        password="x", is_staff=True,
    )
    user.groups.add(Group.objects.get(name=group_name))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


@pytest.mark.parametrize(
    ("perm", "marketing", "support"),
    [
        ("wagtailadmin.access_admin", True, False),
        ("offer.add_conditionaloffer", True, False),
        ("voucher.change_voucher", True, False),
        ("communication.change_communicationeventtype", True, False),
        ("order.view_order", True, True),
        ("order.change_order", False, True),
        ("order.add_ordernote", False, True),
        ("address.change_useraddress", False, True),
        ("auth.view_user", False, True),
        ("auth.change_user", False, False),
        ("auth.delete_user", False, False),
        ("catalogue.delete_product", False, False),
        ("auth.change_group", False, False),
    ],
)
def test_role_permissions(site_pages, perm, marketing, support):
    assert _user_in(MARKETING).has_perm(perm) is marketing
    assert _user_in(SUPPORT).has_perm(perm) is support


def test_marketing_may_publish_pages_and_support_may_not(site_pages):
    from shop.pages.models import HomePage

    home = HomePage.objects.get()
    assert home.permissions_for_user(_user_in(MARKETING)).can_publish()
    assert not home.permissions_for_user(_user_in(SUPPORT)).can_edit()


def test_sync_is_idempotent_and_restores_removed_permissions(site_pages):
    marketing = Group.objects.get(name=MARKETING)
    before = set(marketing.permissions.values_list("id", flat=True))
    marketing.permissions.clear()
    GroupPagePermission.objects.filter(group=marketing).delete()
    sync_role_groups()
    sync_role_groups()
    assert set(marketing.permissions.values_list("id", flat=True)) == before
    assert GroupPagePermission.objects.filter(
        group=marketing, page=Page.get_first_root_node()
    ).count() == 4
    assert Group.objects.filter(name__in=ROLE_PERMISSIONS).count() == 2


def test_migrate_brings_the_role_groups_up_to_date(site_pages):
    """A new permission in ROLE_PERMISSIONS reaches the groups with the next migrate, not
    only with a re-seed (post_migrate reaches the store's receivers)."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    marketing = Group.objects.get(name=MARKETING)
    marketing.permissions.remove(Permission.objects.get(codename="view_segment"))
    call_command("migrate", verbosity=0)
    assert marketing.permissions.filter(codename="view_segment").exists()
