"""core.hooks: the lower apps' hook points, filled by the apps above them at start-up."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from core.hooks import Hook, Provider, hooks_list


def test_every_hook_point_has_the_receivers_the_layers_above_register() -> None:
    # given the apps loaded (their AppConfig.ready() ran)
    # when the hook points are listed
    points = {name: receivers for name, _doc, receivers in hooks_list()}

    # then answers reach active learning and review, flags and run doubts reach review
    assert points["labeling.answer_given"] == ["active_learning.retrain_if_due", "oversight.review_on_submit"]
    assert points["labeling.item_flagged"] == ["oversight.flag_to_review"]
    assert points["weak_supervision.run_doubts"] == ["oversight.review_uncertain_add"]


def test_a_hook_calls_its_receivers_in_order_and_a_key_registered_again_replaces_its_receiver() -> None:
    # given a hook with two receivers, the first registered twice
    calls: list[str] = []
    hook: Hook[int] = Hook("test.hook", "for this test")
    hook.register("a", lambda n: calls.append(f"old a{n}"))
    hook.register("b", lambda n: calls.append(f"b{n}"))
    hook.register("a", lambda n: calls.append(f"a{n}"))

    # when it is called
    hook(1)

    # then each receiver ran once, in the order of first registration
    assert calls == ["a1", "b1"]


def test_a_receivers_error_reaches_the_caller() -> None:
    # given a receiver that fails
    hook: Hook[int] = Hook("test.failing", "for this test")

    def fail(n: int) -> None:
        raise ValueError(f"bad {n}")

    hook.register("fail", fail)

    # when / then the caller sees the error, as with a direct call
    with pytest.raises(ValueError, match="bad 2"):
        hook(2)


def test_a_provider_answers_none_until_one_registers() -> None:
    # given a provider nobody filled
    provider: Provider[int, str] = Provider("test.provider", "for this test")

    # when / then it answers None, and the registered answer afterwards
    assert provider(1) is None
    provider.register("p", lambda n: f"answer {n}")
    assert provider(3) == "answer 3"


def test_the_hooks_command_lists_every_point_and_receiver() -> None:
    # when the command runs
    out = StringIO()
    call_command("hooks", stdout=out)

    # then it names the points and their receivers
    text = out.getvalue()
    assert "labeling.answer_given:" in text
    assert "  -> oversight.review_on_submit" in text
