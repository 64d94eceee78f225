"""A flow's shape and its steps' settings, checked without a database: loops, steps no
path reaches, branches to missing steps, and what each kind of step needs."""

from campaigns.flows import graph
from campaigns.flows.validation import step_problems


def _steps(*spec):
    return [{"id": sid, "kind": kind, "next": nxt, "else": other} for sid, kind, nxt, other in spec]


def test_a_straight_flow_goes_step_by_step_to_the_end():
    steps = _steps((1, "wait", "", "end"), (2, "email", "", "end"))
    assert graph.problems(steps) == []
    assert graph.target_of(steps, 1) == "2" and graph.target_of(steps, 2) == graph.END


def test_a_condition_branches_and_else_defaults_to_the_end():
    steps = _steps((1, "condition", "3", "end"), (2, "email", "end", "end"), (3, "sms", "", ""))
    assert graph.target_of(steps, 1, True) == "3" and graph.target_of(steps, 1, False) == graph.END
    problems = graph.problems(steps, {"2": "step 2 (send e-mail)"})
    assert problems == ["Step 2 (send e-mail) can never be reached: no step leads to it. "
                        "Point a step or a branch at it, or delete it."]


def test_a_loop_is_refused_with_its_steps_named():
    steps = _steps((1, "email", "", "end"), (2, "condition", "1", "end"))
    problems = graph.problems(steps, {"1": "step 1", "2": "step 2"})
    assert len(problems) == 1 and "loops (step 1 → step 2 → step 1)" in problems[0]


def test_a_branch_to_a_deleted_step_and_an_empty_flow_are_refused():
    assert "no longer exists" in graph.problems(_steps((1, "email", "99", "end")))[0]
    assert graph.problems([]) == ["The flow has no steps: add at least one."]


def test_each_kind_of_step_says_what_it_is_missing():
    assert step_problems("email", {}) == ["it sends an e-mail but names no template"]
    assert step_problems("sms", {"text": "{% if %}"})[0].startswith("its SMS text is not a valid template")
    assert step_problems("voucher", {"percent": 10, "amount": 5, "valid_days": 7}) == [
        "a voucher gives either a percentage or an amount off"]
    assert step_problems("voucher", {"percent": 10}) == ["the voucher must expire after 1 to 366 days (valid_days)"]
    assert step_problems("tag", {"add": "a", "remove": "b"}) == ["a tag step adds a tag or removes one: name exactly one"]
    assert step_problems("webhook", {"url": "ftp://x"}) == ["a webhook needs an http:// or https:// address"]
    assert step_problems("condition", {}) == ["a condition needs a rule or a segment to check"]
    unknown = step_problems("condition", {"rule": {"attribute": "shoe_size", "op": "eq", "value": 4}})
    assert len(unknown) == 1 and "unknown attribute 'shoe_size'" in unknown[0]
    assert step_problems("wait", {}, wait_hours=-1) == ["the wait must be from 0 to 8784 hours"]
    assert step_problems("email", {"template": "WELCOME"}) == []
    assert step_problems("condition", {"rule": {"attribute": "order_count", "op": "gte", "value": 1}}) == []


def test_the_sms_and_flow_settings_are_checked(settings):
    from campaigns.checks import check_settings

    settings.CAMPAIGNS_SMS_BACKEND = "campaigns.sms.backends.filebased.SmsBackend"
    settings.CAMPAIGNS_SMS_FILE_PATH = None
    assert [e.msg for e in check_settings()] == [
        "CAMPAIGNS_SMS_FILE_PATH must name a folder when CAMPAIGNS_SMS_BACKEND is the file backend."]
    settings.CAMPAIGNS_SMS_BACKEND = "no.such.Backend"
    assert "CAMPAIGNS_SMS_BACKEND cannot be imported" in check_settings()[0].msg
    settings.CAMPAIGNS_SMS_BACKEND = "campaigns.sms.backends.console.SmsBackend"
    settings.CAMPAIGNS_HOLDOUT_DEFAULT = 1.5
    settings.CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS = 0
    messages = [e.msg for e in check_settings()]
    assert "CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS must be a positive number, not 0." in messages
    assert any(m.startswith("CAMPAIGNS_HOLDOUT_DEFAULT must be a share from 0 to below 1") for m in messages)


def test_the_console_backend_prints_each_sms():
    import io

    from campaigns.sms import SmsMessage
    from campaigns.sms.backends.console import SmsBackend

    stream = io.StringIO()
    assert SmsBackend(stream=stream).send_messages([SmsMessage(to="+447700900123", body="Hello", from_="Shop")]) == 1
    assert "To: +447700900123" in stream.getvalue() and "\nHello\n" in stream.getvalue()
