"""``ECRM_ERASURE_HOOKS``: other apps forget a customer once an erasure commits; a hook that
cannot be imported is reported by the system checks, not found during an erasure."""

from ecrm.checks import check_settings


def test_an_erasure_hook_that_cannot_be_imported_is_a_system_check_error(settings):
    assert check_settings() == []
    settings.ECRM_ERASURE_HOOKS = ["recommender.recent.no_such_function"]
    (error,) = check_settings()
    assert error.id == "ecrm.E002" and "no_such_function" in error.msg
