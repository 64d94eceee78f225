"""``ECRM_PERSONAL_DATA``: a provider that cannot be imported, or lacks a method, is reported
by the system checks at start-up, not found during an export or an erasure."""

from ecrm.checks import check_settings


def test_a_provider_that_cannot_be_imported_or_is_incomplete_is_a_system_check_error(settings):
    assert check_settings() == []
    settings.ECRM_PERSONAL_DATA = ["recommender.privacy.no_such_provider"]
    (error,) = check_settings()
    assert error.id == "ecrm.E002" and "no_such_provider" in error.msg
    settings.ECRM_PERSONAL_DATA = ["recommender.recent.recent_forget"]  # a function, not a provider
    (error,) = check_settings()
    assert "has no export, plan, erase" in error.msg
