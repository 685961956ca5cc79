"""Whole resets and the admin operations, through BlockingSspr and Sspr, on in-memory and on
Python-implemented (sync and async) backends."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any, Callable, Type

import pytest

import sspr
from conftest import (
    JANE, JANE_DN, JANE_MAIL, KEY, START, AsyncContacts, AsyncDirectory, AsyncNotifier, ListAudit,
    SyncContacts, SyncDirectory, SyncNotifier, World, make_world, run,
)


def test_blocking_flow_sets_a_temporary_password(world: World) -> None:
    s = world.blocking
    challenge = s.begin_reset("  JDoe@Example.ORG ")
    assert len(challenge.flow_id) == 32
    assert [(m.id, m.channel, m.masked) for m in challenge.methods] == [("email", "email", "j***@h***.example")]
    assert challenge.expires_at == START + datetime.timedelta(minutes=15)
    assert challenge.expires_at.tzinfo is not None and challenge.expires_at.utcoffset() == datetime.timedelta(0)
    sent = s.send_pin(challenge.flow_id, "email")
    assert sent.attempts_left == 5
    assert sent.expires_at == START + datetime.timedelta(minutes=10)
    verified = s.verify_pin(challenge.flow_id, world.pin())
    assert verified.modes == ["temporary", "unlock_only"] and verified.remaining_methods == []
    outcome = s.complete_reset(challenge.flow_id)
    assert outcome.must_change and outcome.temporary_password is not None
    temp = outcome.temporary_password.reveal()
    assert len(temp) == 16
    assert world.directory.check_password(JANE_DN, temp) is True
    assert world.directory.check_password(JANE_DN, outcome.temporary_password) is True
    status = s.status(JANE)
    assert status.last_reset_at == START
    kinds = [e["kind"] for e in world.audit.events()]
    assert kinds[-4:] == ["reset_requested", "pin_sent", "pin_verified", "reset_completed"]
    # The "your password was reset" notice went out.
    assert [n.kind for n in world.outbox.messages_to(JANE_MAIL)][-1] == "password_reset"


def test_async_flow_on_memory_backends(world: World) -> None:
    async def flow() -> sspr.ResetOutcome:
        s = world.aio
        ctx = sspr.RequestContext(client_ip="192.0.2.7", user_agent="pytest", locale="de")
        c = await s.begin_reset(JANE, ctx)
        await s.send_pin(c.flow_id, "email", None, ctx)
        pin = world.outbox.last_pin_to(JANE_MAIL)
        assert pin is not None
        await s.verify_pin(c.flow_id, pin, ctx)  # a Secret is accepted as the PIN
        return await s.complete_reset(c.flow_id, "unlock_only", ctx=ctx)

    outcome = run(flow())
    assert outcome.temporary_password is None and outcome.unlocked is True
    pin_notice = [n for n in world.outbox.messages() if n.kind == "pin"][-1]
    assert pin_notice.locale == "de" and "Code" in pin_notice.subject


def test_chosen_password_mode() -> None:
    w = make_world(sspr.Policy(allow_chosen_password=True))
    w.enroll()
    s = w.blocking
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "email")
    assert s.verify_pin(c.flow_id, w.pin()).modes == ["temporary", "chosen", "unlock_only"]
    with pytest.raises(sspr.InvalidInput) as err:
        s.complete_reset(c.flow_id, "chosen")
    assert err.value.field == "password"
    with pytest.raises(sspr.PasswordRejected):
        s.complete_reset(c.flow_id, "chosen", "password")
    outcome = s.complete_reset(c.flow_id, "chosen", sspr.Secret("Kettle-Violin-42"))
    assert outcome.temporary_password is None
    assert w.directory.check_password(JANE_DN, "Kettle-Violin-42") is not None


def test_unknown_login_gets_a_decoy_of_the_same_shape(world: World) -> None:
    real = world.blocking.begin_reset(JANE)
    fake = world.blocking.begin_reset("nobody@example.org")
    assert type(fake) is type(real) and len(fake.methods) == 1 and fake.methods[0].id == "email"
    assert world.blocking.begin_reset("NOBODY@example.org").methods[0].masked == fake.methods[0].masked
    sent = world.blocking.send_pin(fake.flow_id, "email")
    assert sent.attempts_left == 5
    assert len(world.outbox.messages_to(JANE_MAIL)) == 0 or all(
        n.kind != "pin" for n in world.outbox.messages_to(JANE_MAIL)
    )
    with pytest.raises(sspr.WrongPin):
        world.blocking.verify_pin(fake.flow_id, "12345678")


def test_sign_in_and_search_on_the_memory_directory(world: World) -> None:
    s = world.blocking
    signed = s.sign_in(JANE, "Old-Passw0rd!")
    assert signed.login == JANE and signed.must_change is False and signed.display_name == "Jane Doe"
    for login, password in ((JANE, "nope"), ("nobody@example.org", "Old-Passw0rd!")):
        with pytest.raises(sspr.SignInFailed) as err:
            s.sign_in(login, password)
        assert "Passw0rd" not in str(err.value)
    assert [u.login for u in s.search_users("example.org", limit=2)] == ["bob@example.org", "gone@example.org"]
    assert [u.login for u in run(world.aio.search_users("JANE"))] == [JANE]


def test_admin_operations(world: World) -> None:
    s = world.blocking
    contacts = s.contacts(JANE)
    assert contacts.email is not None and contacts.email.value == JANE_MAIL and contacts.phone is None
    # The user changes their own address: not before the code sent to it comes back...
    with pytest.raises(sspr.NotAllowed) as refused:
        s.update_contacts(JANE, email="jane@new.example")
    assert refused.value.reason == "contact_unproven"
    proof = s.request_contact_proof(JANE, "email", "jane@new.example")
    assert proof.channel == "email" and proof.masked == "j***@n***.example"
    s.flush_deliveries()
    code = world.outbox.last_proof_code_to("jane@new.example")
    assert code is not None and world.outbox.messages_to("jane@new.example")[-1].kind == "contact_proof"
    with pytest.raises(sspr.WrongPin):
        s.confirm_contact_proof(JANE, proof.proof_id, "".join("1" if c == "0" else "0" for c in code.reveal()))
    # ...and then usable only after the cooling-off period.
    changed = s.confirm_contact_proof(JANE, proof.proof_id, code)
    assert changed.email is not None and changed.email.usable_from == START + datetime.timedelta(days=1)
    with pytest.raises(sspr.AlreadyUsed):
        s.confirm_contact_proof(JANE, proof.proof_id, code)
    assert [n.kind for n in world.outbox.messages_to(JANE_MAIL)][-1] == "contacts_changed"
    cleared = s.update_contacts(JANE, clear_email=True, admin="helpdesk")
    assert cleared.email is None
    with pytest.raises(sspr.InvalidInput):
        s.update_contacts(JANE, email="x@y.example", clear_email=True)
    s.set_enabled(JANE, False, admin="helpdesk")
    assert s.status(JANE).enabled is False
    s.unblock(JANE, admin="helpdesk")
    assert s.completion_modes() == ["temporary", "unlock_only"]
    assert s.policy == sspr.Policy(min_response_ms=0)  # make_world turns padding off


def test_admin_contacts_is_audited_with_the_admin_as_actor(world: World) -> None:
    """An administrator's read of a user's contacts (THREAT_MODEL R.31): the contacts in full,
    and a ``contacts_viewed`` event naming the admin, the user and the contacts masked."""
    s = world.blocking
    ctx = sspr.RequestContext(client_ip="192.0.2.31", user_agent="helpdesk-browser")
    read = s.admin_contacts(JANE, admin="helpdesk", ctx=ctx)
    own = s.contacts(JANE)
    assert read.email is not None and own.email is not None and read.email.value == JANE_MAIL
    assert (read.email.masked, read.email.usable_from, read.phone) == (own.email.masked, own.email.usable_from, None)
    again = run(world.aio.admin_contacts(JANE, admin="helpdesk", ctx=ctx))
    assert again.email is not None and again.email.value == JANE_MAIL
    viewed = [e for e in world.audit.events() if e["kind"] == "contacts_viewed"]
    assert len(viewed) == 2, viewed  # one per read; `contacts` (the user's own page) records none
    event = viewed[0]
    assert event["actor"] == {"type": "admin", "id": "helpdesk"}
    assert event["user_id"] == JANE_DN and event["client_ip"] == "192.0.2.31"
    assert event["user_agent"] == "helpdesk-browser" and event["outcome"] == {"result": "success"}
    assert event["destination"] == read.email.masked and JANE_MAIL not in repr(world.audit.events())
    with pytest.raises(sspr.NotAllowed) as refused:
        s.admin_contacts(JANE)  # no admin: a user may not read another's contacts this way
    assert refused.value.reason == "admin_only"
    assert len([e for e in world.audit.events() if e["kind"] == "contacts_viewed"]) == 2


@pytest.mark.parametrize(
    "directory_cls,notifier_cls,contacts_cls",
    [(SyncDirectory, SyncNotifier, SyncContacts), (AsyncDirectory, AsyncNotifier, AsyncContacts)],
    ids=["sync", "async"],
)
@pytest.mark.parametrize("api", ["asyncio", "blocking"])
def test_flow_with_python_backends(directory_cls: Type[SyncDirectory], notifier_cls: Type[SyncNotifier],
                                   contacts_cls: Type[SyncContacts], api: str) -> None:
    directory, notifier, contacts, audit = directory_cls(), notifier_cls(), contacts_cls(), ListAudit()
    directory.add("Pat@Example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, contacts=contacts, audit=audit)

    if api == "blocking":
        s.set_enabled("pat@example.org", True, admin="helpdesk")
        s.update_contacts("pat@example.org", email="pat@home.example", phone="+44 7400 900123", admin="helpdesk")
        c = s.begin_reset("pat@example.org")
        s.send_pin(c.flow_id, "email")
        s.verify_pin(c.flow_id, notifier.last_pin())
        outcome = s.complete_reset(c.flow_id)
    else:
        async def flow() -> sspr.ResetOutcome:
            a = s.asyncio()
            await a.set_enabled("pat@example.org", True, admin="helpdesk")
            await a.update_contacts("pat@example.org", email="pat@home.example", phone="+44 7400 900123", admin="helpdesk")
            c = await a.begin_reset("pat@example.org")
            await a.send_pin(c.flow_id, "email")
            await a.verify_pin(c.flow_id, notifier.last_pin())
            done = await a.complete_reset(c.flow_id)
            # The completion's handed-off work calls these async backends on this loop: a host
            # waits for it while its loop still runs (`asyncio.run` closes it on return).
            await a.flush_deliveries()
            await a.flush_audit()
            return done

        outcome = run(flow())

    # The completion hands its audit event off (a hanging sink must not keep the password from
    # the user): a host waits for it as at shutdown, the handed-off work first, then the sink.
    s.flush_deliveries()
    s.flush_audit()
    assert outcome.temporary_password is not None
    assert directory.passwords["uid=pat"] == outcome.temporary_password.reveal()
    assert directory.must_change["uid=pat"] is True
    stored = SyncContacts.get(contacts, "uid=pat")
    assert stored is not None and stored.enabled and stored.version >= 2
    assert stored.phone is not None and stored.phone.value == "+447400900123"
    assert any(e["kind"] == "reset_completed" for e in audit.events)
    assert "set_password" in directory.calls

    # Sign-in and admin search go through the same Python directory.
    temp = outcome.temporary_password
    if api == "blocking":
        signed = s.sign_in("PAT@example.org", temp)
        with pytest.raises(sspr.SignInFailed):
            s.sign_in("pat@example.org", "wrong")
        found = s.search_users("smith")
    else:
        async def later() -> "tuple[sspr.SignedIn, list[sspr.UserStatus]]":
            a = s.asyncio()
            signed = await a.sign_in("PAT@example.org", temp)
            with pytest.raises(sspr.SignInFailed):
                await a.sign_in("pat@example.org", "wrong")
            return signed, await a.search_users("smith")

        signed, found = run(later())
    assert signed.must_change is True and signed.login == "Pat@Example.org" and signed.user_id == "uid=pat"
    assert [u.login for u in found] == ["Pat@Example.org"] and found[0].enabled
    assert "authenticate" in directory.calls and "search" in directory.calls


def test_python_backend_missing_a_method_is_refused() -> None:
    class NoSend:
        pass

    with pytest.raises(TypeError, match="Notifier"):
        sspr.Sspr(SyncDirectory(), NoSend(), secret_key=KEY)  # type: ignore[arg-type]


def test_engines_share_state(world: World) -> None:
    c = world.blocking.begin_reset(JANE)
    run(world.aio.send_pin(c.flow_id, "email"))
    world.blocking.verify_pin(c.flow_id, world.pin())


def test_policy_from_dict_toml_and_kwargs() -> None:
    p = sspr.Policy(pin_length=6, sms_enabled=True, decoy_country_codes=["44"], privileged_groups=["Tier0"])
    assert p.pin_length == 6 and p.sms_enabled is True and p.privileged_groups == ["Tier0"]
    assert sspr.Policy.from_toml(p.to_toml()) == p
    assert sspr.Policy.from_dict(p.to_dict()) == p
    assert sspr.Policy.from_toml(
        "pin_length = 6\nsms_enabled = true\ndecoy_country_codes = ['44']\nprivileged_groups = ['Tier0']"
    ) == p
    # SMS needs the country codes its decoys are drawn from: the error names the field.
    with pytest.raises(sspr.ConfigError, match="decoy_country_codes"):
        sspr.Policy(sms_enabled=True)
    assert p.replace(pin_length=7).pin_length == 7
    assert sspr.Policy().pin_lifetime_secs == 600
    with pytest.raises(sspr.ConfigError, match="`no_such_field`"):
        sspr.Policy(no_such_field=1)
    with pytest.raises(sspr.ConfigError, match="pin_length"):
        sspr.Policy(pin_length="eight")
    # A policy file's wrong value names its key in TOML as in JSON (TOML named a line before).
    for read in (lambda: sspr.Policy.from_toml('pin_length = "six"'), lambda: sspr.Policy.from_json('{"pin_length": "six"}')):
        with pytest.raises(sspr.ConfigError, match="policy field `pin_length`"):
            read()
    assert "pin_length=6" in repr(p)
    # The repr is Python: pasted back, it is the same policy (True, not JSON's true).
    assert "sms_enabled=True" in repr(p)
    assert eval(repr(p), {"Policy": sspr.Policy}) == p  # noqa: S307 - our own repr
    q = sspr.Policy(default_region="GB", allow_chosen_password=True, decoy_email_initials={"a": 2})
    assert eval(repr(q), {"Policy": sspr.Policy}) == q  # noqa: S307


def test_min_response_time_pads_with_the_manual_clock() -> None:
    w = make_world(sspr.Policy(min_response_ms=500))
    before = w.clock.now()
    w.blocking.begin_reset("nobody@example.org")
    assert w.clock.now() - before == datetime.timedelta(milliseconds=500)


def test_min_response_time_with_the_real_clock() -> None:
    s = sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY, policy=sspr.Policy(min_response_ms=50))
    import time

    t0 = time.monotonic()
    s.begin_reset("nobody@example.org")
    assert time.monotonic() - t0 >= 0.045

    async def padded() -> float:
        t = time.monotonic()
        await s.asyncio().begin_reset("other@example.org")
        return time.monotonic() - t

    assert run(padded()) >= 0.045


def test_secret_key_forms() -> None:
    for key in (KEY, KEY.hex(), KEY.hex().upper()):
        sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=key)  # type: ignore[arg-type]
    # A zeroed buffer is a key everyone knows.
    for bad in (b"short", "zz" * 32, 42, bytes(32), "00" * 32):
        with pytest.raises(sspr.ConfigError):
            sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=bad)  # type: ignore[arg-type]


def test_registration_coverage_report_reminders_and_reconfirmation() -> None:
    policy = sspr.Policy(min_response_ms=0, registration_url="https://sspr.example.org/passwordnotification",
                         reconfirm_after_days=30)
    world = make_world(policy)
    world.directory.add("max@example.org", "Max M", "uid=max,ou=staff,dc=example,dc=org", mail="max@example.org")
    with pytest.raises(sspr.InvalidInput) as bad:
        world.directory.add("x@example.org", "X", "uid=x,ou=staff,dc=example,dc=org", mail="not an address")
    assert bad.value.field == "mail"
    world.enroll()
    s = world.blocking
    s.set_enabled("max@example.org", True, admin="helpdesk")

    report = s.enrollment_report(admin="helpdesk", ous=["ou=staff,dc=example,dc=org"])
    assert report.counts.users == 5 and report.counts.without_contacts == 1 and report.counts.registered == 1
    max_entry = next(u for u in report.users if u.login == "max@example.org")
    assert max_entry.without_contacts and max_entry.has_directory_mail and not max_entry.stale
    assert next(u for u in report.users if u.login == JANE).email_masked == "j***@h***.example"
    with pytest.raises(sspr.NotAllowed) as refused:
        s.enrollment_report(ous=[])
    assert refused.value.reason == "admin_only"
    with pytest.raises(sspr.InvalidInput) as bad:
        s.enrollment_report(admin="helpdesk", stale_after_days=0)
    assert bad.value.field == "stale_after_days"

    run1 = s.send_registration_reminders(admin="helpdesk")
    assert run1.reminded == ["max@example.org"] and run1.failed == 0
    s.flush_deliveries()
    sent = world.outbox.messages_to("max@example.org")
    assert [n.kind for n in sent] == ["registration_reminder"]
    assert "https://sspr.example.org/passwordnotification" in sent[0].text()
    again = run(world.aio.send_registration_reminders(admin="helpdesk"))
    assert again.reminded == [] and again.already_reminded == 1

    # Thirty days on, jane is asked to confirm her contacts, and confirms them.
    assert s.contacts(JANE).confirm_due is False
    world.clock.advance(30 * 86400)
    assert s.contacts(JANE).confirm_due is True
    assert s.confirm_contacts(JANE).confirm_due is False
    assert [e for e in world.audit.events() if e["kind"] == "contacts_confirmed"]


def test_helpdesk_recovery_shown_and_sent(world: World) -> None:
    """An administrator issues a recovery code (shown once, a Secret) or sends one to the
    user's contact (only the masked destination comes back); the user redeems it to the
    verified step and completes the reset; every refusal is WrongPin; the code appears in no
    repr."""
    s = world.blocking
    with pytest.raises(sspr.NotAllowed) as refused:
        s.admin_recovery("bob@example.org")
    assert refused.value.reason == "admin_only"
    with pytest.raises(sspr.NotAllowed) as refused:
        s.admin_recovery("root@example.org", admin="helpdesk")
    assert refused.value.reason == "privileged"
    with pytest.raises(sspr.NotAllowed) as refused:
        s.admin_recovery("bob@example.org", admin="helpdesk")
    assert refused.value.reason == "not_enabled"

    s.set_enabled("bob@example.org", True, admin="helpdesk")
    issued = s.admin_recovery("bob@example.org", admin="helpdesk")
    code = issued.code.reveal()
    assert len(code) == 10 and code.isdigit()
    assert code not in repr(issued) and "Secret('********')" in repr(issued)
    with pytest.raises(sspr.InvalidInput) as bad:
        s.redeem_recovery_code("bob@example.org", "12")
    assert bad.value.field == "code"
    wrong = "".join("0" if c == "9" else str(int(c) + 1) for c in code)
    with pytest.raises(sspr.WrongPin) as err:
        s.redeem_recovery_code("bob@example.org", wrong)
    assert err.value.attempts_left == 0 and code not in str(err.value)
    with pytest.raises(sspr.WrongPin):
        s.redeem_recovery_code("nobody@example.org", code)
    recovered = s.redeem_recovery_code("bob@example.org", sspr.Secret(code))
    assert recovered.modes[0] == "temporary" and recovered.flow_id not in repr(recovered)
    outcome = s.complete_reset(recovered.flow_id)
    assert outcome.temporary_password is not None
    with pytest.raises(sspr.WrongPin):
        s.redeem_recovery_code("bob@example.org", code)

    # Sent to jane's registered address instead (asyncio twin).
    world.enroll()
    with pytest.raises(sspr.InvalidInput) as bad:
        s.admin_send_recovery_code(JANE, "sms", admin="helpdesk")
    assert bad.value.field == "channel"
    sent = run(world.aio.admin_send_recovery_code(JANE, "email", admin="helpdesk"))
    assert sent.channel == "email" and sent.masked != JANE_MAIL and "@" in sent.masked
    mailed = [n for n in world.outbox.messages_to(JANE_MAIL) if n.kind == "recovery_code"]
    assert len(mailed) == 1 and mailed[0].pin is not None
    code = mailed[0].pin.reveal()
    assert code not in repr(sent)
    events = [e for e in world.audit.events() if e["kind"] in ("recovery_issued", "recovery_redeemed")]
    assert code not in repr(events)
    recovered = run(world.aio.redeem_recovery_code(JANE, code))
    assert run(world.aio.complete_reset(recovered.flow_id)).temporary_password is not None


class _SlowNotifier(SyncNotifier):
    """An ``async def`` notifier whose notices take ``notice_seconds`` (a relay round trip),
    while PINs go at once; ``None``: a notice never comes back."""

    def __init__(self, notice_seconds: "float | None") -> None:
        super().__init__()
        self.notice_seconds = notice_seconds

    async def send(self, notification: sspr.Notification) -> None:
        if notification.pin is None:
            if self.notice_seconds is None:
                await asyncio.Event().wait()
            await asyncio.sleep(self.notice_seconds)
        self.sent.append(notification)


class _SlowAudit(ListAudit):
    """An ``async def`` audit sink that takes ``seconds`` per event."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def record(self, event: "dict[str, Any]") -> None:  # type: ignore[override]
        await asyncio.sleep(self.seconds)
        self.events.append(event)


def _reset_one_asyncio_run_per_call(
    a: sspr.Sspr, notifier: SyncNotifier, run: Callable[[Any], Any] = asyncio.run
) -> sspr.ResetOutcome:
    """A script (a CLI, a task queue's task, a sync framework calling async code) that runs each
    engine call in its own ``asyncio.run``, which closes the loop when the call returns (or in
    ``run``, another way to drive one call to its end)."""
    run(a.set_enabled("pat@example.org", True, admin="helpdesk"))
    run(a.update_contacts("pat@example.org", email="pat@home.example", admin="helpdesk"))
    c = run(a.begin_reset("pat@example.org"))
    run(a.send_pin(c.flow_id, "email"))
    run(a.verify_pin(c.flow_id, notifier.last_pin()))
    outcome: sspr.ResetOutcome = run(a.complete_reset(c.flow_id))
    return outcome


def test_a_reset_in_its_own_asyncio_run_still_tells_the_owner_and_audits_it() -> None:
    # The reset's notice to the owner and its audit event are handed off (a slow relay or sink
    # must not keep the temporary password from the user). `asyncio.run` cancels what is left
    # when the call returns, then closes the loop: on main both were dropped without a word.
    directory, notifier, audit = AsyncDirectory(), _SlowNotifier(0.2), _SlowAudit(0.05)
    directory.add("Pat@Example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, contacts=AsyncContacts(), audit=audit)
    outcome = _reset_one_asyncio_run_per_call(s.asyncio(), notifier)
    # No flush: when asyncio.run returned, the loop had finished the handed-off work.
    assert outcome.temporary_password is not None
    assert [(n.kind, n.to) for n in notifier.sent if n.pin is None] == [("password_reset", "pat@home.example")]
    assert [e["kind"] for e in audit.events][-1] == "reset_completed"


def test_handed_off_work_that_outlasts_the_grace_of_a_closing_loop_is_dropped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A relay that never answers must not hold a script's exit for long, nor be lost unseen.
    monkeypatch.setattr("sspr._support.SHUTDOWN_GRACE_SECS", 0.3)
    directory, notifier, audit = AsyncDirectory(), _SlowNotifier(None), ListAudit()
    directory.add("Pat@Example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, contacts=AsyncContacts(), audit=audit)
    with pytest.warns(RuntimeWarning, match="was dropped"):
        outcome = _reset_one_asyncio_run_per_call(s.asyncio(), notifier)
    assert outcome.temporary_password is not None
    assert [n for n in notifier.sent if n.pin is None] == []


def test_handed_off_work_of_a_loop_closed_without_running_it_is_not_lost_silently() -> None:
    # A host that makes its own loop and closes it without cancelling its tasks (as asyncio.run
    # would) never runs them: the next delivery says so.
    directory, notifier, audit = AsyncDirectory(), _SlowNotifier(0.2), ListAudit()
    directory.add("Pat@Example.org", "Pat Smith")
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, contacts=AsyncContacts(), audit=audit)
    a = s.asyncio()
    loop = asyncio.new_event_loop()
    _reset_one_asyncio_run_per_call(a, notifier, loop.run_until_complete)
    loop.close()
    assert [n for n in notifier.sent if n.pin is None] == []
    with pytest.warns(RuntimeWarning, match="never finished"):
        asyncio.run(a.send_pin(asyncio.run(a.begin_reset("pat@example.org")).flow_id, "email"))
