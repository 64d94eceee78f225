"""OpenAPI schema hooks (drf-spectacular)."""


def only_our_api(endpoints, **kwargs):
    """Document /api/ only: Wagtail's admin API is DRF too, but internal and not ours."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]
