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


class SlowSyncNotifier(SyncNotifier):
    """A mail relay that takes 200 ms, written with plain methods."""

    def send(self, notification: sspr.Notification) -> None:
        time.sleep(0.2)
        SyncNotifier.send(self, notification)


class SlowAsyncNotifier(SyncNotifier):
    """A mail relay that takes 200 ms, written as a coroutine."""

    async def send(self, notification: sspr.Notification) -> None:  # type: ignore[override]
        await asyncio.sleep(0.2)
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
def test_slow_notifier_timing_tells_real_from_unknown(api: str) -> None:
    """Default policy (padding on, tokio timer), a 200 ms relay: the medians of five sends
    for a real and an unknown login are within 50 ms."""
    notifier = SlowAsyncNotifier() if api == "asyncio" else SlowSyncNotifier()
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
        for _ in range(5):
            for login in (JANE, UNKNOWN):
                took[login].append(await one_async(login))
        await s.asyncio().flush_deliveries()

    if api == "asyncio":
        asyncio.run(all_async())
    else:
        for _ in range(5):
            for login in (JANE, UNKNOWN):
                took[login].append(one_blocking(login))
        s.flush_deliveries()
    real, unknown = statistics.median(took[JANE]), statistics.median(took[UNKNOWN])
    assert abs(real - unknown) < 0.05, took
    assert len([n for n in notifier.sent if n.pin is not None]) == 5, "every real PIN was delivered"


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
