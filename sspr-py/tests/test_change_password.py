"""change_password and password_rules through the Python API (the rules are the engine's;
these check that they reach Python whole: the typed refusal, one answer for an unknown login
and a wrong password, the notice, asyncio and blocking alike)."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Dict, List, Optional

import pytest

import sspr

from conftest import JANE, JANE_MAIL, KEY, SyncDirectory, SyncNotifier, World, make_world


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


class ChangingDirectory(SyncDirectory):
    """A Python directory that offers the optional change_password, with a history."""

    def __init__(self) -> None:
        super().__init__()
        self.history: Dict[str, List[str]] = {}

    def change_password(self, user_id: str, old: sspr.Secret, new: sspr.Secret) -> None:
        self.calls.append("change_password")
        if self.passwords.get(user_id) != old.reveal():
            raise sspr.PasswordRejected("the old password is wrong", refusal="wrong_current_password")
        if new.reveal() in self.history.get(user_id, []):
            raise sspr.PasswordRejected("used before", refusal="in_history")
        self.history.setdefault(user_id, []).append(old.reveal())
        self.passwords[user_id] = new.reveal()


def test_a_python_directory_changes_passwords_when_it_offers_the_method() -> None:
    directory = ChangingDirectory()
    directory.add(JANE, "Jane Doe")
    directory.passwords["uid=jdoe"] = "Old-Passw0rd!"
    engine = sspr.BlockingSspr(directory, SyncNotifier(), secret_key=KEY, policy=sspr.Policy(min_response_ms=0))
    engine.change_password(JANE, "Old-Passw0rd!", "Fresh-Meadow-41")
    assert directory.passwords["uid=jdoe"] == "Fresh-Meadow-41"
    with pytest.raises(sspr.PasswordRejected) as err:
        engine.change_password(JANE, "Fresh-Meadow-41", "Old-Passw0rd!")
    assert err.value.refusal == "in_history"
    # Without the method: the contract's default, not supported, and nothing changed.
    plain = SyncDirectory()
    plain.add(JANE, "Jane Doe")
    plain.passwords["uid=jdoe"] = "Old-Passw0rd!"
    engine = sspr.BlockingSspr(plain, SyncNotifier(), secret_key=KEY, policy=sspr.Policy(min_response_ms=0))
    with pytest.raises(sspr.BackendError) as unsupported:
        engine.change_password(JANE, "Old-Passw0rd!", "Fresh-Meadow-41")
    assert unsupported.value.kind == "not_supported"
    assert plain.passwords["uid=jdoe"] == "Old-Passw0rd!"


def test_password_checkers_from_config_and_from_python(tmp_path: pathlib.Path) -> None:
    """The engine takes the checkers of `from_config(...).password_checkers` (the portal's
    `[password_checks]`) and Python objects with `check`, run after the policy's own checks."""
    words = tmp_path / "banned.txt"
    words.write_text("harbour\n")
    b = sspr.backends.from_config({"password_checks": {"banned_words_file": str(words)}})
    assert len(b.password_checkers) == 1

    class NoMonths:
        def __init__(self) -> None:
            self.seen: list[tuple[str, str]] = []

        async def check(self, password: sspr.Secret, login: str, display_name: str) -> Optional[str]:
            self.seen.append((login, display_name))
            return "no month names, please" if "october" in password.reveal().lower() else None

    months = NoMonths()
    w = make_world()
    s = sspr.BlockingSspr(w.directory, w.outbox, secret_key=KEY, clock=w.clock, policy=sspr.Policy(min_response_ms=0),
                          password_checkers=[*b.password_checkers, months])
    with pytest.raises(sspr.PasswordRejected) as refused:
        s.change_password(JANE, "Old-Passw0rd!", "Quiet-Harbour-Lantern-77")
    assert refused.value.refusal == "banned"
    with pytest.raises(sspr.PasswordRejected) as refused:
        s.change_password(JANE, "Old-Passw0rd!", "Quiet-October-Lantern-77")
    assert refused.value.refusal == "unspecified" and "month" in str(refused.value)
    assert months.seen == [(JANE, "Jane Doe")], "the banned word refused first; then the Python check ran"
    s.change_password(JANE, "Old-Passw0rd!", "Quiet-Meadow-Lantern-77")

    class Down:
        def check(self, password: sspr.Secret, login: str, display_name: str) -> Optional[str]:
            raise TimeoutError("the check service did not answer")

    closed = sspr.BlockingSspr(w.directory, w.outbox, secret_key=KEY, policy=sspr.Policy(min_response_ms=0),
                               password_checkers=[Down()])
    with pytest.raises(sspr.BackendError):
        closed.change_password(JANE, "Quiet-Meadow-Lantern-77", "Fresh-Valley-Candle-31")
    with pytest.raises(TypeError):
        sspr.BlockingSspr(w.directory, w.outbox, secret_key=KEY, password_checkers=[object()])
