"""Every exception class, each raised by a real scenario, with its typed attributes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from typing import Iterator, List, Optional, Type

import pytest

import sspr
import sspr.contrib._web
from conftest import (
    JANE,
    JANE_MAIL,
    KEY,
    START,
    AsyncDirectory,
    SyncDirectory,
    SyncNotifier,
    World,
    make_world,
    run,
    verified_blocking_flow,
)

RAISED: List[Type[sspr.SsprError]] = []
#: What each scenario raised, for the codes' check at the end.
CAUGHT: List[sspr.SsprError] = []


@contextlib.contextmanager
def raises(cls: Type[sspr.SsprError]) -> Iterator["pytest.ExceptionInfo[sspr.SsprError]"]:
    RAISED.append(cls)
    with pytest.raises(cls) as info:
        yield info  # type: ignore[misc]
    CAUGHT.append(info.value)


def test_invalid_input(world: World) -> None:
    with raises(sspr.InvalidInput) as err:
        world.blocking.begin_reset("   ")
    assert err.value.field == "login" and err.value.reason
    # What a web user is told, as sspr-core describes it (tests/parity/answers.json pins every variant).
    answer = (err.value.http_status, err.value.answer_code, err.value.message_id, err.value.answer_fields)
    assert answer == (400, "invalid_input", "err-field", {"field": "login"})
    assert err.value.message_args == {"field": "login"}
    with pytest.raises(sspr.InvalidInput) as err:
        world.blocking.send_pin("not-a-flow", "email")
    assert err.value.field == "flow_id"
    with pytest.raises(sspr.InvalidInput) as err:
        world.blocking.update_contacts(JANE, email="not an address", admin="helpdesk")
    assert err.value.field == "email"
    with pytest.raises(sspr.InvalidInput) as err:
        sspr.RequestContext(client_ip="300.1.1.1")
    assert err.value.field == "client_ip"


def test_wrong_pin_then_voided() -> None:
    world = make_world(sspr.Policy(max_wrong_pins=3))
    world.enroll()
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    for left in (2, 1):
        with raises(sspr.WrongPin) as err:
            world.blocking.verify_pin(c.flow_id, "00000000")
        assert err.value.attempts_left == left
    with raises(sspr.PinVoided):
        world.blocking.verify_pin(c.flow_id, "00000000")
    with pytest.raises(sspr.PinVoided):
        world.blocking.verify_pin(c.flow_id, world.pin())


def test_expired(world: World) -> None:
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    world.clock.advance(600)  # valid at exactly 10 minutes ...
    world.clock.advance(1)  # ... not one second later
    with raises(sspr.Expired):
        world.blocking.verify_pin(c.flow_id, world.pin())
    assert sspr.PinExpired is sspr.Expired


def test_already_used_and_invalid_state(world: World) -> None:
    c = world.blocking.begin_reset(JANE)
    with raises(sspr.InvalidState) as err:
        world.blocking.verify_pin(c.flow_id, "12345678")
    assert err.value.reason
    world.blocking.send_pin(c.flow_id, "email")
    world.blocking.verify_pin(c.flow_id, world.pin())
    world.blocking.complete_reset(c.flow_id)
    with raises(sspr.AlreadyUsed):
        world.blocking.complete_reset(c.flow_id)


def test_rate_limited(world: World) -> None:
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    with raises(sspr.RateLimited) as err:
        world.blocking.send_pin(c.flow_id, "email")
    assert err.value.retry_after == datetime.timedelta(seconds=60)
    assert (err.value.http_status, err.value.answer_fields) == (429, {"retry_after_seconds": 60})
    assert err.value.message_args == {"minutes": 1}


def test_blocked() -> None:
    w = make_world(sspr.Policy(user_failures_before_block=2, min_response_ms=0))
    w.enroll()
    c = w.blocking.begin_reset(JANE)
    w.blocking.send_pin(c.flow_id, "email")
    with pytest.raises(sspr.WrongPin):
        w.blocking.verify_pin(c.flow_id, "00000000")
    with raises(sspr.Blocked) as err:  # the second failure blocks the user
        w.blocking.verify_pin(c.flow_id, "00000000")
    until = err.value.until
    with pytest.raises(sspr.Blocked) as again:
        w.blocking.begin_reset(JANE)
    assert again.value.until == until
    assert until.tzinfo is not None and until.utcoffset() == datetime.timedelta(0)
    assert until > START + datetime.timedelta(hours=23)
    assert (again.value.http_status, again.value.message_id, again.value.message_args) == (403, "blocked", {"at": until})
    written = str(again.value.answer_fields["until"])
    assert written.endswith("Z") and datetime.datetime.fromisoformat(written.replace("Z", "+00:00")) == until
    assert w.blocking.status(JANE).blocked_until == until
    w.blocking.unblock(JANE, admin="helpdesk")
    w.blocking.begin_reset(JANE)


def test_not_allowed(world: World) -> None:
    with raises(sspr.NotAllowed) as err:
        world.blocking.set_enabled(JANE, True)  # no admin named
    assert err.value.reason == "admin_only"
    with pytest.raises(sspr.NotAllowed) as err:
        world.blocking.set_enabled("root@example.org", True, admin="helpdesk")
    assert err.value.reason == "privileged"
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    world.blocking.verify_pin(c.flow_id, world.pin())
    with pytest.raises(sspr.NotAllowed) as err:
        world.blocking.complete_reset(c.flow_id, "chosen", "Kettle-Violin-42")
    assert err.value.reason == "mode_disabled"


def test_password_rejected_by_policy_and_by_a_python_directory() -> None:
    w = make_world(sspr.Policy(allow_chosen_password=True))
    w.enroll()
    c = w.blocking.begin_reset(JANE)
    w.blocking.send_pin(c.flow_id, "email")
    w.blocking.verify_pin(c.flow_id, w.pin())
    with raises(sspr.PasswordRejected) as err:
        w.blocking.complete_reset(c.flow_id, "chosen", "jdoe12345")
    assert err.value.reason and "jdoe12345" not in str(err.value)

    directory, notifier = SyncDirectory(), SyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    directory.reject_passwords = True
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, policy=sspr.Policy(allow_chosen_password=True))
    flow = verified_blocking_flow(s, notifier)
    with pytest.raises(sspr.PasswordRejected) as err:
        s.complete_reset(flow, "chosen", "Kettle-Violin-42")
    assert "history" in err.value.reason
    # Nothing was changed: the flow is still verified and can complete another way.
    directory.reject_passwords = False
    assert s.complete_reset(flow).temporary_password is not None


def test_sign_in_failed_and_unknown_user(world: World) -> None:
    with raises(sspr.SignInFailed):
        world.blocking.sign_in(JANE, "wrong")
    with raises(sspr.UnknownUser):
        world.blocking.status("nobody@example.org")


def test_config_error() -> None:
    with raises(sspr.ConfigError) as err:
        sspr.Policy(pin_length=4)
    assert "`pin_length`" in str(err.value) and "6..=12" in str(err.value)
    with pytest.raises(sspr.ConfigError):
        sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=b"short")
    with pytest.raises(sspr.ConfigError):
        sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY, store=object())


@pytest.mark.parametrize("api", ["blocking", "asyncio"])
def test_backend_error_keeps_the_cause(api: str) -> None:
    directory, notifier = SyncDirectory(), SyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY)
    cause = ConnectionError("ldap://dc1 unreachable")
    directory.fail_with = cause
    with raises(sspr.BackendError) as err:
        if api == "blocking":
            s.begin_reset("pat@example.org")
        else:
            run(s.asyncio().begin_reset("pat@example.org"))
    assert err.value.kind == "unavailable"
    assert err.value.__cause__ is cause
    assert "unreachable" in str(err.value)

    directory.fail_with = ValueError("bad data")
    with pytest.raises(sspr.BackendError) as err:
        s.status("pat@example.org")
    assert err.value.kind == "other" and isinstance(err.value.__cause__, ValueError)

    # A notifier that fails is not the caller's business (an unknown login would not see it):
    # the send is answered as a decoy's, retried in the background, and a later resend waits
    # for the cooldown like any other.
    directory.fail_with = None
    s.set_enabled("pat@example.org", True, admin="h")
    s.update_contacts("pat@example.org", email="pat@home.example", admin="h")
    c = s.begin_reset("pat@example.org")
    notifier.fail_with = TimeoutError("smtp timed out")
    s.send_pin(c.flow_id, "email")
    notifier.fail_with = None
    with pytest.raises(sspr.RateLimited):
        s.send_pin(c.flow_id, "email")
    s.flush_deliveries()
    assert notifier.last_pin(), "the background retry delivered the PIN once the notifier was back"


def test_a_python_backend_returning_the_wrong_type() -> None:
    class Odd(SyncDirectory):
        def find_user(self, login: str) -> object:  # type: ignore[override]
            return {"login": login}

    with pytest.raises(sspr.BackendError) as err:
        sspr.BlockingSspr(Odd(), SyncNotifier(), secret_key=KEY).status("pat@example.org")
    assert err.value.kind == "rejected" and isinstance(err.value.__cause__, TypeError)


def test_challenge_required_and_unavailable() -> None:
    """A bot challenge (`[bot_challenge]`; its provider here: nobody listening on port 9)."""
    b = sspr.backends.from_config({"bot_challenge": {
        "provider": "hcaptcha", "site_key": "site", "secret": "s3cret", "verify_url": "http://127.0.0.1:9/siteverify",
    }})
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, policy=sspr.Policy(min_response_ms=0),
                          bot_challenge=b.bot_challenge)
    with raises(sspr.ChallengeError) as err:
        s.begin_reset("pat@example.org")
    assert (err.value.code, err.value.reason) == ("challenge", "required")
    with raises(sspr.ChallengeError) as err:
        s.begin_reset("pat@example.org", challenge_token="tok-123")
    assert err.value.reason == "unavailable" and "tok-123" not in str(err.value)


def test_every_exception_class_was_raised_by_a_scenario() -> None:
    classes = {
        obj for obj in vars(sspr._errors).values()
        if isinstance(obj, type) and issubclass(obj, sspr.SsprError) and obj is not sspr.SsprError
    }
    assert classes - set(RAISED) == set(), "exception classes no scenario raised"
    for cls in classes:
        assert issubclass(cls, sspr.SsprError)


def test_an_error_made_in_python_has_its_classs_stable_code() -> None:
    """A host raises sspr's errors too (an import script's checks, a backend's ``BackendError``, the routers'
    ``ConfigError`` for a bad ``trusted_proxies``), and branches on ``code`` as it does for the engine's: the code
    is the class's, the one the engine gives that class."""
    assert CAUGHT
    for raised in CAUGHT:
        assert raised.code and type(raised).code == raised.code, type(raised).__name__
    classes = {obj for obj in vars(sspr._errors).values() if isinstance(obj, type) and issubclass(obj, sspr.SsprError)}
    for cls in classes - {sspr.SsprError}:
        made = cls("made by the host")
        assert made.code and sspr.parse_name("error_code", made.code) == made.code, cls.__name__
    with pytest.raises(sspr.ConfigError) as err:
        sspr.contrib._web.networks(["not a network"])
    assert err.value.code == "config"


def test_blocking_gives_up_a_backend_coroutine_that_never_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    """``BlockingSspr`` runs a backend's coroutine inside the engine's step, where the engine's
    timer cannot cut it off: ``run_blocking`` keeps the engine's bound itself (shortened here)."""
    import time

    import sspr._support

    class NeverDirectory(AsyncDirectory):
        cancelled = False

        async def find_user(self, login: str) -> Optional[sspr.DirectoryUser]:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                NeverDirectory.cancelled = True
                raise
            return None

    monkeypatch.setattr(sspr._support, "BACKEND_TIMEOUT_SECS", 0.3)
    s = sspr.BlockingSspr(NeverDirectory(), SyncNotifier(), secret_key=KEY, policy=sspr.Policy(min_response_ms=0))
    started = time.monotonic()
    with pytest.raises(sspr.BackendError) as err:
        s.begin_reset("pat@example.org")
    elapsed = time.monotonic() - started
    assert err.value.kind == "unavailable"
    assert "no answer within 0.3 s" in str(err.value)
    assert 0.29 <= elapsed < 5, elapsed
    assert NeverDirectory.cancelled, "the coroutine was not cancelled"
