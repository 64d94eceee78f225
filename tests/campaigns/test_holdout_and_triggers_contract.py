"""The shared pieces flows and broadcasts build on: the holdout choice and the trigger contract."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.holdout import holdout_apply, in_holdout
from campaigns.models import HoldoutMember
from campaigns.triggers.base import Due, Param, Trigger


def test_holdout_is_stable_and_close_to_its_share():
    people = [f"user-{i}" for i in range(20_000)]
    held = [p for p in people if in_holdout("flow:1", p, 0.1)]
    assert 0.09 < len(held) / len(people) < 0.11
    assert held == [p for p in people if in_holdout("flow:1", p, 0.1)]
    other = {p for p in people if in_holdout("flow:2", p, 0.1)}
    assert len(other & set(held)) < len(held) / 5  # another campaign holds out other people
    assert not any(in_holdout("flow:1", p, 0) for p in people[:100])
    assert all(in_holdout("flow:1", p, 1) for p in people[:100])


@pytest.mark.django_db
def test_holdout_apply_records_each_firing_once():
    person = next(p for p in (f"u{i}" for i in range(1000)) if in_holdout("broadcast:7", p, 0.5))
    assert holdout_apply("broadcast:7", person, 0.5, window="a")
    assert holdout_apply("broadcast:7", person, 0.5, window="a")
    assert holdout_apply("broadcast:7", person, 0.5, window="b")
    assert HoldoutMember.objects.filter(person_key=person).count() == 2
    outsider = next(p for p in (f"u{i}" for i in range(1000)) if not in_holdout("broadcast:7", p, 0.5))
    assert not holdout_apply("broadcast:7", outsider, 0.5)
    assert not HoldoutMember.objects.filter(person_key=outsider).exists()


def test_trigger_settings_are_cleaned_with_clear_errors():
    seen = []
    trigger = Trigger(kind="t", label="Test", description="", topic="offers",
                      params=(Param("delay_hours", "Delay (hours)", "int", default=4, min=1),
                              Param("mode", "Mode", "choice", default="a", choices=(("a", "A"), ("b", "B")))),
                      find=lambda values, now: seen.append(values) or [Due("u1", "w")])
    assert list(trigger.due({}, None)) == [Due("u1", "w")]
    assert seen == [{"delay_hours": 4, "mode": "a"}]
    with pytest.raises(ValidationError, match="Delay \\(hours\\): at least 1"):
        trigger.settings_clean({"delay_hours": 0})
    with pytest.raises(ValidationError, match="Delay \\(hours\\)"):
        trigger.settings_clean({"delay_hours": "soon"})
    with pytest.raises(ValidationError, match="choose one of a, b"):
        trigger.settings_clean({"mode": "c"})
    with pytest.raises(ValidationError, match="unknown setting"):
        trigger.settings_clean({"colour": "red"})
