"""Event hooks (``hooks={"reset_completed": fn, ...}``) and admin alerts: a hook hears the
events it subscribed to with the audit event as a dict, plain or ``async def``; a failing
hook never breaks a reset and is audited; security notices reach the policy's
``admin_alert_addresses`` once per interval."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest

import sspr
from conftest import JANE, JANE_DN, JANE_MAIL, KEY, START, World, make_world, run, seed_directory


def engine(w: World, **options: Any) -> sspr.BlockingSspr:
    """An engine over the world's backends with the given hooks or policy."""
    policy = options.pop("policy", sspr.Policy(min_response_ms=0))
    return sspr.BlockingSspr(w.directory, w.outbox, secret_key=KEY, clock=w.clock, audit=w.audit,
                             policy=policy, rng_seed=bytes(32), **options)


def reset(s: sspr.BlockingSspr, w: World) -> str:
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "email")
    s.verify_pin(c.flow_id, w.pin())
    outcome = s.complete_reset(c.flow_id)
    s.flush_deliveries()
    assert outcome.temporary_password is not None
    return outcome.temporary_password.reveal()


def test_a_plain_hook_hears_its_events_with_the_audit_event_and_no_secret() -> None:
    w = make_world()
    heard: List[Tuple[str, Dict[str, Any]]] = []
    s = engine(w, hooks={"reset_completed": lambda event, audit: heard.append((event, audit))})
    s.set_enabled(JANE, True, admin="helpdesk")
    s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    assert heard == [], "contacts_changed was not subscribed to"
    password = reset(s, w)
    assert [event for event, _ in heard] == ["reset_completed"]
    audit = heard[0][1]
    assert audit["kind"] == "reset_completed" and audit["user_id"] == JANE_DN
    assert password not in repr(heard) and w.pin() not in repr(heard)


def test_an_async_hook_is_awaited() -> None:
    w = make_world()
    heard: List[str] = []

    async def on_contacts(event: str, audit: Dict[str, Any]) -> None:
        await asyncio.sleep(0)
        heard.append(audit["user_id"])

    s = engine(w, hooks={"contacts_changed": on_contacts}).asyncio()

    async def flow() -> None:
        await s.set_enabled(JANE, True, admin="helpdesk")
        await s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
        await s.flush_deliveries()

    run(flow())
    assert heard == [JANE_DN]


def test_a_failing_hook_never_breaks_the_reset_and_is_audited() -> None:
    w = make_world()

    def revoke_sessions(event: str, audit: Dict[str, Any]) -> None:
        raise ConnectionError("the session service is down")

    s = engine(w, hooks={"reset_completed": revoke_sessions})
    s.set_enabled(JANE, True, admin="helpdesk")
    s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    password = reset(s, w)
    assert w.directory.check_password(JANE_DN, password) is True
    failed = [e for e in w.audit.events() if e["kind"] == "hook_failed"]
    assert len(failed) == 1 and "reset_completed" in failed[0]["outcome"]["error"]
    assert "session service is down" in failed[0]["outcome"]["error"]


def test_hooks_are_checked_when_the_engine_is_built() -> None:
    w = make_world()
    with pytest.raises(sspr.InvalidInput) as bad:
        engine(w, hooks={"reset-completed": print})
    assert bad.value.field == "event"
    with pytest.raises(TypeError):
        engine(w, hooks={"reset_completed": "not callable"})


def test_a_privileged_attempt_alerts_the_admins_once_per_interval() -> None:
    w = make_world()
    policy = sspr.Policy(min_response_ms=0, admin_alert_addresses=["secops@example.org"])
    heard: List[str] = []
    s = engine(w, policy=policy, hooks={"privileged_attempt_refused": lambda event, audit: heard.append(event)})
    for n in range(5):
        s.begin_reset("root@example.org", sspr.RequestContext(client_ip=f"198.51.100.{n}"))
    s.flush_deliveries()
    assert heard == ["privileged_attempt_refused"] * 5
    alerts = w.outbox.messages_to("secops@example.org")
    assert [a.kind for a in alerts] == ["admin_alert"]
    assert "privileged" in alerts[0].text() and "held back for 60 minutes" in alerts[0].text()
