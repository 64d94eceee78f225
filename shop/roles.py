"""Staff roles as Django groups: Marketing and Support (superusers need none).

Both roles are staff (``is_staff``), which is what Oscar's dashboard asks
for; what each may change is set by the permissions below, which Django
admin, Wagtail admin and the permission-aware parts of Oscar's dashboard
honour. ``sync_role_groups`` is idempotent: it makes each group hold exactly
these permissions.
"""

from __future__ import annotations

from django.db import transaction

MARKETING = "Marketing"
SUPPORT = "Support"

# app_label -> codenames. Wagtail page and collection permissions are added separately.
ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    MARKETING: {
        "wagtailadmin": ["access_admin"],
        "offer": [
            f"{action}_{model}"
            for model in ("conditionaloffer", "range", "benefit", "condition", "rangeproduct")
            for action in ("add", "change", "delete", "view")
        ],
        "voucher": [
            f"{action}_{model}"
            for model in ("voucher", "voucherset")
            for action in ("add", "change", "delete", "view")
        ],
        "communication": ["view_communicationeventtype", "change_communicationeventtype"],
        "catalogue": ["view_product", "view_category", "view_productclass"],
        "order": ["view_order", "view_line"],
        "analytics": ["view_productrecord", "view_userrecord", "view_usersearch"],
        "ecrm": ["view_profile", "tag_profile", "view_customernote", "view_consent",
                 "view_segment", "add_segment", "change_segment", "delete_segment", "export_segment",
                 "view_segmentmembership", "view_customer_reports",
                 "view_savedfunnel", "add_savedfunnel", "change_savedfunnel", "delete_savedfunnel",
                 "view_campaigncost", "add_campaigncost", "change_campaigncost", "delete_campaigncost",
                 "view_segmentoffer", "add_segmentoffer", "change_segmentoffer", "delete_segmentoffer"],
        "recommender": ["view_modelversion", "add_modelversion", "change_modelversion",
                        "view_experiment", "add_experiment", "change_experiment"] + [
            f"{action}_{model}" for model in ("merchandisingrule", "repurchasepolicy")
            for action in ("add", "change", "delete", "view")],
        "campaigns": ["view_message", "retry_message", "view_suppression", "add_suppression",
                      "delete_suppression", "view_flow", "add_flow", "change_flow", "delete_flow",
                      "view_flowenrolment", "send_test_emaildesign", "view_broadcast", "add_broadcast",
                      "change_broadcast", "view_campaign_results"] + [
            f"{action}_emaildesign" for action in ("add", "change", "delete", "view", "publish")],
        "wagtailimages": ["add_image", "change_image", "choose_image"],
        "wagtaildocs": ["add_document", "change_document", "choose_document"],
        "wagtailcore": ["add_page", "change_page", "publish_page", "view_page"],
        # Promotions (snippets with a variant per segment) placed on pages and in Oscar's templates.
        "pages": [f"{action}_promotion" for action in ("add", "change", "delete", "view")],
    },
    SUPPORT: {
        "order": [
            "view_order", "change_order", "view_line", "change_line",
            "view_ordernote", "add_ordernote", "change_ordernote",
            "view_orderstatuschange", "view_shippingaddress", "change_shippingaddress",
            "view_paymentevent", "view_shippingevent", "add_shippingevent",
        ],
        "auth": ["view_user"],
        # Data-subject requests usually arrive at support: one customer's export and erasure.
        "ecrm": ["view_profile", "tag_profile", "view_customernote", "add_customernote",
                 "view_consent", "add_consent", "view_segment", "view_segmentmembership", "merge_profile",
                 "export_profile", "erase_profile"],
        "address": ["view_useraddress", "change_useraddress"],
        "basket": ["view_basket", "view_line"],
        "customer": ["view_productalert"],
        "communication": ["view_email", "view_notification", "add_notification"],
        "catalogue": ["view_product", "view_category"],
        "partner": ["view_stockrecord"],
        # Support answers "did my e-mail go out?": the outbox and suppressions, read only.
        "campaigns": ["view_message", "view_suppression", "view_flow", "view_flowenrolment", "view_emaildesign",
                      "view_broadcast", "view_campaign_results"],
    },
}

# Wagtail checks page permissions per subtree (GroupPagePermission), not by model.
PAGE_PERMISSIONS = {MARKETING: ["add_page", "change_page", "publish_page", "lock_page"]}
COLLECTION_PERMISSIONS = {
    MARKETING: [
        ("wagtailimages", "add_image"), ("wagtailimages", "change_image"),
        ("wagtailimages", "choose_image"), ("wagtaildocs", "add_document"),
        ("wagtaildocs", "change_document"), ("wagtaildocs", "choose_document"),
    ]
}


def _permissions(spec: dict[str, list[str]]) -> list:
    from django.contrib.auth.models import Permission

    wanted = {(app, code) for app, codes in spec.items() for code in codes}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type").filter(
            codename__in={code for _, code in wanted}
        )
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"Permissions not found (did migrate run?): {sorted(missing)}")
    return found


@transaction.atomic
def sync_role_groups() -> dict:
    """Create or update the role groups so they hold exactly the intended permissions."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    groups = {}
    for name, spec in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(spec))
        groups[name] = group

    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    for name, group in groups.items():
        GroupPagePermission.objects.filter(group=group).delete()
        GroupCollectionPermission.objects.filter(group=group).delete()
        if root_page is not None:
            for codename in PAGE_PERMISSIONS.get(name, []):
                GroupPagePermission.objects.create(
                    group=group,
                    page=root_page,
                    permission=Permission.objects.get(
                        content_type__app_label="wagtailcore", codename=codename
                    ),
                )
        if root_collection is not None:
            for app_label, codename in COLLECTION_PERMISSIONS.get(name, []):
                GroupCollectionPermission.objects.create(
                    group=group,
                    collection=root_collection,
                    permission=Permission.objects.get(
                        content_type__app_label=app_label, codename=codename
                    ),
                )
    return groups


def sync_role_groups_after_migrate(sender, **kwargs) -> None:
    """``post_migrate`` receiver: keep the role groups in step with the code."""
    sync_role_groups()
