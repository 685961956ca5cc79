"""change_password and password_rules through the Python API (the rules are the engine's;
these check that they reach Python whole: the typed refusal, one answer for an unknown login
and a wrong password, the notice, asyncio and blocking alike)."""

from __future__ import annotations

import asyncio

import pytest

import sspr

from conftest import JANE, JANE_MAIL, World, make_world


def test_a_change_then_only_the_new_password_signs_in_and_the_contacts_are_told(world: World) -> None:
    s = world.blocking
    s.change_password(JANE, "Old-Passw0rd!", "Fresh-Meadow-41")
    assert s.sign_in(JANE, "Fresh-Meadow-41").must_change is False
    with pytest.raises(sspr.SignInFailed):
        s.sign_in(JANE, "Old-Passw0rd!")
    assert [n.kind for n in world.outbox.messages_to(JANE_MAIL)][-1] == "password_changed"
    assert "password_changed" in [e["kind"] for e in world.audit.events()]


def test_unknown_login_wrong_password_and_privileged_accounts_get_one_answer(world: World) -> None:
    answers = []
    for login, current in ((JANE, "Wrong-Passw0rd!"), ("nobody@example.org", "Old-Passw0rd!"), ("root@example.org", "x")):
        with pytest.raises(sspr.SignInFailed) as err:
            world.blocking.change_password(login, current, "Fresh-Meadow-41")
        answers.append((err.value.code, str(err.value)))
    assert len(set(answers)) == 1 and answers[0][0] == "sign_in_failed"


def test_a_refused_new_password_names_its_rule(world: World) -> None:
    for new, refusal in (("Sh0rt!", "too_short"), ("Old-Passw0rd!", "in_history"), ("Summer2024!", "guessable")):
        with pytest.raises(sspr.PasswordRejected) as err:
            world.blocking.change_password(JANE, "Old-Passw0rd!", new)
        assert err.value.refusal == refusal and new not in str(err.value)
    world.blocking.sign_in(JANE, "Old-Passw0rd!")


def test_the_rules_asyncio_and_blocking() -> None:
    world = make_world(sspr.Policy(min_response_ms=0, chosen_password_min_length=12))
    rules = world.blocking.password_rules()
    assert (rules.min_length, rules.history_length, rules.complexity, rules.min_age_secs) == (12, 5, True, None)
    assert "min_length=12" in repr(rules)

    async def change() -> None:
        await world.aio.change_password(JANE, "Old-Passw0rd!", "Fresh-Meadow-4142")
        assert (await world.aio.password_rules()).min_length == 12

    asyncio.run(change())
    world.blocking.sign_in(JANE, "Fresh-Meadow-4142")
