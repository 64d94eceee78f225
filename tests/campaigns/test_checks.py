"""A wrong CAMPAIGNS_* setting is reported by manage.py check, with what a good value is."""

from campaigns.checks import check_https_links, check_settings


def _ids(settings_problems):
    return {problem.id for problem in settings_problems}


def test_good_defaults_pass(settings):
    assert check_settings() == []


def test_bad_values_are_reported(settings):
    settings.CAMPAIGNS_MAX_ATTEMPTS = 0
    settings.CAMPAIGNS_QUIET_HOURS = (21, 25)
    settings.CAMPAIGNS_FREQUENCY_CAP_HOURS = -1
    settings.CAMPAIGNS_WEBHOOK_SECRET = "no-colon"
    settings.CAMPAIGNS_CARRIER_TRACKING_URLS = {"DPD": "https://dpd.example/"}
    settings.CAMPAIGNS_BASE_URL = "shop.example"
    problems = check_settings()
    text = " ".join(problem.msg for problem in problems)
    assert len(problems) == 6
    assert "CAMPAIGNS_MAX_ATTEMPTS must be a positive number" in text
    assert "CAMPAIGNS_QUIET_HOURS must be None or (start hour, end hour)" in text
    assert "'user:password'" in text and "{number}" in text and "absolute URL" in text


def test_deploy_check_wants_https_links(settings):
    settings.CAMPAIGNS_BASE_URL = "http://shop.example"
    assert _ids(check_https_links()) == {"campaigns.W001"}
    settings.CAMPAIGNS_BASE_URL = "https://shop.example"
    assert check_https_links() == []


def test_the_folder_mail_backend_needs_its_folder(settings):
    from campaigns.checks import check_sent_mail_folder

    settings.EMAIL_BACKEND = "campaigns.sent_mail.FolderEmailBackend"
    settings.EMAIL_FILE_PATH = "/tmp/sent-mail"
    assert check_sent_mail_folder() == []
    settings.EMAIL_FILE_PATH = ""
    (problem,) = check_sent_mail_folder()
    assert problem.id == "campaigns.E101" and "EMAIL_FILE_PATH is not set" in problem.msg
