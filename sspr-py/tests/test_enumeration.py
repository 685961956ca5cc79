"""Account enumeration through a slow or failing notifier (issue 11 item 2), with the library's
default policy: a real login and an unknown one get the same answers, in the same time."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any, Callable, List

import pytest

import sspr

from conftest import JANE, JANE_MAIL, KEY, START, AsyncNotifier, SyncNotifier, seed_directory

UNKNOWN = "nobody@example.org"


RELAY_SECONDS = 1.0
"""Longer than the default padding (300 ms): a relay wait inside the answer cannot hide."""


class SlowSyncNotifier(SyncNotifier):
    """A mail relay that takes a second, written with plain methods: `send` talks to the relay
    before it returns, as a first `smtplib` notifier would."""

    def send(self, notification: sspr.Notification) -> None:
        time.sleep(RELAY_SECONDS)
        SyncNotifier.send(self, notification)


class SlowAsyncNotifier(SyncNotifier):
    """A mail relay that takes a second, written as a coroutine."""

    async def send(self, notification: sspr.Notification) -> None:  # type: ignore[override]
        await asyncio.sleep(RELAY_SECONDS)
        SyncNotifier.send(self, notification)


def engine(notifier: Any, clock: Any = None) -> sspr.BlockingSspr:
    s = sspr.BlockingSspr(seed_directory(), notifier, secret_key=KEY, clock=clock, audit=sspr.MemoryAuditSink())
    s.set_enabled(JANE, True, admin="helpdesk")
    s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    return s


def answer(call: Callable[[], Any]) -> str:
    try:
        call()
        return "ok"
    except sspr.SsprError as e:
        return type(e).__name__


def test_notifier_outage_answers_real_and_unknown_logins_alike() -> None:
    notifier = SyncNotifier()
    notifier.fail_with = ConnectionError("smtp://relay unreachable")
    s = engine(notifier, clock=sspr.ManualClock(START))
    seen: List[List[str]] = []
    for login in (JANE, UNKNOWN):
        c = s.begin_reset(login)
        seen.append([
            answer(lambda: s.send_pin(c.flow_id, "email")),
            answer(lambda: s.send_pin(c.flow_id, "email")),
            answer(lambda: s.verify_pin(c.flow_id, "00000000")),
        ])
    assert seen[0] == seen[1] == ["ok", "RateLimited", "WrongPin"], seen
    assert notifier.sent == []


@pytest.mark.parametrize("api", ["asyncio", "blocking"])
@pytest.mark.parametrize("written", ["def", "async def"])
def test_a_slow_relay_answers_real_and_unknown_logins_in_the_same_time(api: str, written: str) -> None:
    """Default policy (padding on, tokio timer), a relay taking a second inside `send`, in
    every way a host writes it: the medians of three sends for a real and an unknown login
    are within 50 ms (THREAT_MODEL 12.17: before, a real account's answer waited for the relay,
    1.0 s against 0.30 s), and every PIN still arrives."""
    notifier = SlowAsyncNotifier() if written == "async def" else SlowSyncNotifier()
    s = engine(notifier)
    assert s.policy.min_response_ms > 0, "the default policy pads"
    took: dict[str, List[float]] = {JANE: [], UNKNOWN: []}

    async def one_async(login: str) -> float:
        a = s.asyncio()
        c = await a.begin_reset(login)
        started = time.perf_counter()
        await a.send_pin(c.flow_id, "email")
        return time.perf_counter() - started

    def one_blocking(login: str) -> float:
        c = s.begin_reset(login)
        started = time.perf_counter()
        s.send_pin(c.flow_id, "email")
        return time.perf_counter() - started

    async def all_async() -> None:
        for _ in range(3):
            for login in (JANE, UNKNOWN):
                took[login].append(await one_async(login))
        await s.asyncio().flush_deliveries()

    if api == "asyncio":
        asyncio.run(all_async())
    else:
        for _ in range(3):
            for login in (JANE, UNKNOWN):
                took[login].append(one_blocking(login))
        s.flush_deliveries()
    real, unknown = statistics.median(took[JANE]), statistics.median(took[UNKNOWN])
    assert abs(real - unknown) < 0.05, took
    assert len([n for n in notifier.sent if n.pin is not None]) == 3, "every real PIN was delivered"


def test_slow_deliveries_do_not_hold_back_other_callers() -> None:
    """Four PINs on their way through a relay taking a second each (plain `def send`, under
    `BlockingSspr`): an unknown login's answer meanwhile still takes the padding, not a second.
    Each delivery waits on a thread of its own, not on one of the two runtime threads that
    drive every caller's padding timer."""
    notifier = SlowSyncNotifier()
    s = engine(notifier)
    for _ in range(4):
        c = s.begin_reset(JANE)
        s.send_pin(c.flow_id, "email")
    started = time.perf_counter()
    s.begin_reset(UNKNOWN)
    took = time.perf_counter() - started
    s.flush_deliveries()
    assert took < 0.3 + 0.25, f"an unknown login's answer took {took:.2f} s while PINs were on their way"
    assert len([n for n in notifier.sent if n.pin is not None]) == 4


def test_async_notifier_deliveries_run_on_the_event_loop() -> None:
    """A coroutine notifier that is still waiting when `send_pin` answers goes on as a task of
    the caller's loop; `flush_deliveries` waits for it."""
    notifier = AsyncNotifier()
    s = engine(notifier, clock=sspr.ManualClock(START))

    async def run() -> None:
        a = s.asyncio()
        c = await a.begin_reset(JANE)
        await a.send_pin(c.flow_id, "email")
        await a.flush_deliveries()

    asyncio.run(run())
    assert notifier.last_pin()
