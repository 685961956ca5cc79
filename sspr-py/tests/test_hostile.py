"""Hostile and odd input: a typed error that changes nothing, never a crash; no secret in any
repr, str, exception text, log record or audit event."""

from __future__ import annotations

import logging
import pickle
from typing import Any, List

import pytest

import sspr
from conftest import JANE, JANE_MAIL, KEY, SyncDirectory, SyncNotifier, World, make_world, run, verified_blocking_flow

HOSTILE_LOGINS = [
    "",
    " \t\n",
    "jdoe\x00@example.org",
    "\u202ejdoe@example.org",
    "j\u200bdoe@example.org",
    "a" * 257,
    "x" * 1_000_000,
    "\x7f",
]


@pytest.mark.parametrize("login", HOSTILE_LOGINS, ids=range(len(HOSTILE_LOGINS)))
def test_hostile_logins_are_refused(world: World, login: str) -> None:
    before = len(world.audit.events())
    with pytest.raises(sspr.InvalidInput) as err:
        world.blocking.begin_reset(login)
    assert err.value.field == "login"
    assert len(str(err.value)) < 300
    assert len(world.audit.events()) == before


def test_injection_characters_reach_the_directory_verbatim_and_get_a_decoy() -> None:
    directory, notifier = SyncDirectory(), SyncNotifier()
    seen: List[str] = []
    original = directory.find_user

    def spy(login: str) -> Any:
        seen.append(login)
        return original(login)

    directory.find_user = spy  # type: ignore[method-assign]
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY)
    for login in ("*)(uid=*", "admin*", "x' OR '1'='1", "\\5c", "Ｊｏｅ"):
        c = s.begin_reset(login)
        assert len(c.methods) >= 1  # a decoy, same shape as a real answer
    assert seen == ["*)(uid=*", "admin*", "x' or '1'='1", "\\5c", "joe"]
    assert notifier.sent == []


def test_odd_flow_ids_pins_and_methods(world: World) -> None:
    c = world.blocking.begin_reset(JANE)
    for flow in ("", "0" * 31, "G" * 32, c.flow_id.upper(), c.flow_id + "0", "../" * 20):
        with pytest.raises(sspr.InvalidInput) as err:
            world.blocking.send_pin(flow, "email")
        assert err.value.field == "flow_id"
    with pytest.raises(sspr.InvalidInput) as err:
        world.blocking.send_pin(c.flow_id, "carrier-pigeon")
    assert err.value.field == "method_id"
    world.blocking.send_pin(c.flow_id, "email")
    for pin in ("", "1" * 10_000, "１２３４５６７８", "12345678; DROP TABLE"):
        with pytest.raises((sspr.WrongPin, sspr.InvalidInput)):
            world.blocking.verify_pin(c.flow_id, pin)
    # Spaces and dashes are fine.
    pin = world.pin()
    world.blocking.verify_pin(c.flow_id, f"{pin[:4]} {pin[4:]}")


def test_wrong_types_raise_type_errors_and_change_nothing(world: World) -> None:
    for bad in (None, 42, b"jdoe@example.org", ["jdoe"]):
        with pytest.raises(TypeError):
            world.blocking.begin_reset(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        world.blocking.verify_pin("0" * 32, 12345678)  # type: ignore[arg-type]
    with pytest.raises((UnicodeEncodeError, sspr.InvalidInput)):
        world.blocking.begin_reset("\ud800@example.org")
    with pytest.raises(TypeError):
        run(world.aio.begin_reset(None))  # type: ignore[arg-type]


def test_bad_contact_update_changes_nothing(world: World) -> None:
    before = world.blocking.contacts(JANE)
    with pytest.raises(sspr.InvalidInput) as err:
        world.blocking.update_contacts(JANE, email="new@home.example", phone="call me maybe", admin="h")
    assert err.value.field == "phone"
    after = world.blocking.contacts(JANE)
    assert after.email is not None and before.email is not None and after.email.value == before.email.value
    assert after.phone is None


# ---------------------------------------------------------------------------------------
# Secrets never leak.


def test_secret_object() -> None:
    s = sspr.Secret("Hunter2-Hunter2")
    assert repr(s) == "Secret('********')" and str(s) == "********" and f"{s}" == "********"
    assert "Hunter2" not in repr([s]) and "Hunter2" not in repr({"p": s})
    assert s.reveal() == "Hunter2-Hunter2" and len(s) == 15 and s
    assert s == sspr.Secret("Hunter2-Hunter2") and s != sspr.Secret("other") and s != "Hunter2-Hunter2"
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        hash(s)


def test_no_pin_or_password_in_any_text(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    w = make_world(sspr.Policy(allow_chosen_password=True))
    w.enroll()
    s = w.blocking
    texts: List[str] = []
    secrets: List[str] = []

    c = s.begin_reset(JANE)
    texts += [repr(c), str(c), repr(c.methods)]
    # A bearer token once the PIN is verified: a log line of the challenge must not carry it.
    secrets.append(c.flow_id)
    sent = s.send_pin(c.flow_id, "email")
    texts.append(repr(sent))
    pin = w.pin()
    secrets.append(pin)
    wrong = "".join(str((int(d) + 1) % 10) for d in pin)
    secrets.append(wrong)
    try:
        s.verify_pin(c.flow_id, wrong)
    except sspr.WrongPin as e:
        texts += [str(e), repr(e), repr(e.args)]
    verified = s.verify_pin(c.flow_id, pin)
    texts.append(repr(verified))
    chosen = "jdoe-Weak1"
    secrets.append(chosen)
    try:
        s.complete_reset(c.flow_id, "chosen", chosen)
    except sspr.PasswordRejected as e:
        texts += [str(e), repr(e), e.reason]
    outcome = s.complete_reset(c.flow_id)
    assert outcome.temporary_password is not None
    secrets.append(outcome.temporary_password.reveal())
    texts += [repr(outcome), str(outcome), repr(outcome.temporary_password), str(outcome.temporary_password)]
    texts += [repr(n) for n in w.outbox.messages()]
    texts += [repr(s), repr(w.outbox), repr(w.directory), repr(s.status(JANE)), repr(s.contacts(JANE))]
    texts += [str(e) for e in w.audit.events()]
    try:
        s.sign_in(JANE, secrets[-1] + "x")
    except sspr.SignInFailed as e:
        texts += [str(e), repr(e)]
    texts += [r.getMessage() for r in caplog.records]

    blob = "\n".join(texts)
    for secret in secrets:
        assert secret not in blob, f"a secret leaked: {secret[:2]}..."
    # The PIN notice itself holds the PIN (that is its job), only in text().
    notice = [n for n in w.outbox.messages() if n.kind == "pin"][-1]
    assert notice.pin is not None and notice.pin.reveal() in notice.text()
    assert notice.pin.reveal() not in repr(notice)


def test_backend_errors_do_not_carry_the_password() -> None:
    class Leaky(SyncDirectory):
        def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:
            raise RuntimeError(f"cannot set {password} for {user_id}")  # formats the Secret, not the value

    directory, notifier = Leaky(), SyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY)
    flow = verified_blocking_flow(s, notifier)
    with pytest.raises(sspr.BackendError) as err:
        s.complete_reset(flow)
    assert "********" in str(err.value)
    assert notifier.last_pin() not in str(err.value)


def test_reprs_of_records_hide_addresses(world: World) -> None:
    assert JANE_MAIL not in repr(world.blocking.contacts(JANE))
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    assert JANE_MAIL not in repr(world.outbox.messages()[0])


def _chain_text(err: BaseException) -> str:
    """All a host's `logger.exception` or an error tracker prints of an exception: its whole
    chain, with each link's message and arguments."""
    import traceback

    texts = ["".join(traceback.format_exception(err))]
    link: Any = err
    seen: List[int] = []
    while link is not None and id(link) not in seen:
        seen.append(id(link))
        texts.append(repr(link.args))
        texts.append(repr(vars(link)) if hasattr(link, "__dict__") else "")
        link = link.__cause__ or link.__context__
    return "\n".join(texts)


@pytest.mark.parametrize("chaining", ["raise_from", "implicit"])
def test_a_password_in_a_wrapped_backend_exception_never_reaches_the_caller(chaining: str) -> None:
    """A host's directory wraps the error of the command it ran (`raise ... from e`, or a raise
    in an `except` block): the outer text names no password, the inner one quotes it."""
    import subprocess

    class Wrapping(SyncDirectory):
        def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:
            cmd = ["samba-tool", "user", "setpassword", user_id, f"--newpassword={password.reveal()}"]
            try:
                raise subprocess.CalledProcessError(1, cmd)
            except subprocess.CalledProcessError as e:
                if chaining == "raise_from":
                    raise RuntimeError("samba-tool failed") from e
                raise RuntimeError("samba-tool failed")

    directory, notifier = Wrapping(), SyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, policy=sspr.Policy(allow_chosen_password=True))
    flow = verified_blocking_flow(s, notifier)
    chosen = "Quiet-Harbour-Lantern-73"
    with pytest.raises(sspr.BackendError) as err:
        s.complete_reset(flow, "chosen", chosen)
    assert chosen not in _chain_text(err.value), "the chosen password is in the error's chain"
    assert "samba-tool failed" in str(err.value)


def test_a_count_out_of_range_is_invalid_input_naming_it(world: World) -> None:
    """A negative or huge ``limit`` or ``stale_after_days`` (a form's or a command line's number) is a typed
    ``sspr.InvalidInput`` naming the argument, as the package's errors promise, not a bare ``OverflowError``."""
    s = world.blocking
    for bad in (-1, 2**64, 2**200):
        with pytest.raises(sspr.InvalidInput) as err:
            s.search_users("jdoe", bad)
        assert err.value.field == "limit"
        with pytest.raises(sspr.InvalidInput) as err:
            run(world.aio.search_users("jdoe", bad))
        assert err.value.field == "limit"
        for call in (s.enrollment_report, s.send_registration_reminders):
            with pytest.raises(sspr.InvalidInput) as err:
                call(admin="helpdesk", stale_after_days=bad)
            assert err.value.field == "stale_after_days"
    with pytest.raises(TypeError):
        s.search_users("jdoe", "50")  # type: ignore[arg-type]
    assert [u.login for u in s.search_users("jdoe")] == [JANE]
    assert s.enrollment_report(admin="helpdesk", stale_after_days=30).counts is not None


def test_a_checkers_reason_quoting_the_password_puts_it_in_no_error_text() -> None:
    """A host's password checker answers a reason that quotes what it was handed ("'...' was found in 12
    breaches"): the ``PasswordRejected`` a host logs (``str``, ``args``, ``reason``) holds no password."""

    class Quoting:
        def check(self, password: sspr.Secret, login: str, display_name: str) -> str:
            return f"'{password.reveal()}' was found in 12 breaches; try {password.reveal().upper()}!"

    directory, notifier = SyncDirectory(), SyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.BlockingSspr(
        directory, notifier, secret_key=KEY, policy=sspr.Policy(allow_chosen_password=True),
        password_checkers=[Quoting()],
    )
    flow = verified_blocking_flow(s, notifier)
    chosen = "Quiet-Harbour-Lantern-73"
    with pytest.raises(sspr.PasswordRejected) as err:
        s.complete_reset(flow, "chosen", chosen)
    text = _chain_text(err.value) + err.value.reason + repr(err.value.suggestions)
    assert chosen.lower() not in text.lower(), "the chosen password is in the refusal"
    assert "was found in 12 breaches" in err.value.reason
