"""One engine shared by many tasks and threads; single use holds under races; cancellation
reaches Python backends."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

import pytest

import sspr
from conftest import JANE, KEY, AsyncDirectory, AsyncNotifier, ListAudit, SyncDirectory, SyncNotifier, World, run


def started(world: World) -> str:
    c = world.blocking.begin_reset(JANE)
    world.blocking.send_pin(c.flow_id, "email")
    return c.flow_id


def test_100_concurrent_verify_pin_tasks_one_success(world: World) -> None:
    flow, pin = started(world), ""
    pin = world.pin()

    async def race() -> List[object]:
        s = world.aio
        return await asyncio.gather(*(s.verify_pin(flow, pin) for _ in range(100)), return_exceptions=True)

    results = run(race())
    wins = [r for r in results if isinstance(r, sspr.Verified)]
    assert len(wins) == 1
    assert all(isinstance(r, (sspr.AlreadyUsed, sspr.InvalidState)) for r in results if r not in wins), results


def test_100_concurrent_verify_pin_threads_one_success(world: World) -> None:
    flow = started(world)
    pin = world.pin()
    barrier = threading.Barrier(20)

    def attempt(_: int) -> object:
        if _ < 20:
            barrier.wait()
        try:
            return world.blocking.verify_pin(flow, pin)
        except sspr.SsprError as e:
            return e

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(100)))
    wins = [r for r in results if isinstance(r, sspr.Verified)]
    assert len(wins) == 1
    assert all(isinstance(r, (sspr.AlreadyUsed, sspr.InvalidState)) for r in results if r not in wins)


def test_100_concurrent_completions_with_async_python_backends() -> None:
    directory, notifier = AsyncDirectory(), AsyncNotifier()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.Sspr(directory, notifier, secret_key=KEY)

    async def scenario() -> List[object]:
        await s.set_enabled("pat@example.org", True, admin="h")
        await s.update_contacts("pat@example.org", email="pat@home.example", admin="h")
        c = await s.begin_reset("pat@example.org")
        await s.send_pin(c.flow_id, "email")
        await s.verify_pin(c.flow_id, notifier.last_pin())
        return await asyncio.gather(*(s.complete_reset(c.flow_id) for _ in range(100)), return_exceptions=True)

    results = run(scenario())
    wins = [r for r in results if isinstance(r, sspr.ResetOutcome)]
    assert len(wins) == 1, results
    assert all(isinstance(r, (sspr.AlreadyUsed, sspr.InvalidState)) for r in results if r not in wins)
    assert directory.calls.count("set_password") == 1


def test_many_flows_from_many_threads(world: World) -> None:
    for i in range(8):
        world.directory.add(f"u{i}@example.org", f"User {i}", f"uid=u{i},ou=staff,dc=example,dc=org")
        world.enroll(f"u{i}@example.org", f"u{i}@home.example")

    def flow(i: int) -> bool:
        s = world.blocking
        c = s.begin_reset(f"u{i}@example.org")
        s.send_pin(c.flow_id, "email")
        secret = world.outbox.last_pin_to(f"u{i}@home.example")
        assert secret is not None
        s.verify_pin(c.flow_id, secret)
        return s.complete_reset(c.flow_id).temporary_password is not None

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(flow, range(8)))


class SlowDirectory(AsyncDirectory):
    def __init__(self) -> None:
        super().__init__()
        self.cancelled = 0
        self.cleaned_up = 0
        self.started = 0

    async def find_user(self, login: str) -> Optional[sspr.DirectoryUser]:  # type: ignore[override]
        self.started += 1
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.cleaned_up += 1
        return None


def test_wait_for_timeout_cancels_the_backend_coroutine() -> None:
    directory = SlowDirectory()
    s = sspr.Sspr(directory, SyncNotifier(), secret_key=KEY)

    async def scenario() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(s.begin_reset("pat@example.org"), timeout=0.05)
        assert directory.started == 1 and directory.cancelled == 1 and directory.cleaned_up == 1
        # The engine is fine afterwards.
        directory.users.clear()
        task = asyncio.ensure_future(s.begin_reset("other@example.org"))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert directory.cancelled == 2

    run(scenario())


def test_cancelled_send_can_be_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first PIN's delivery is still waiting on its relay when the loop closes: it is given
    # the grace (shortened here), then dropped with a warning.
    monkeypatch.setattr("sspr._support.SHUTDOWN_GRACE_SECS", 0.3)
    directory = AsyncDirectory()
    directory.add("pat@example.org", "Pat Smith")

    class SlowNotifier(AsyncNotifier):
        slow = True

        async def send(self, notification: sspr.Notification) -> None:  # type: ignore[override]
            if self.slow and notification.kind == "pin":
                await asyncio.sleep(30)
            await AsyncNotifier.send(self, notification)

    notifier = SlowNotifier()
    s = sspr.Sspr(directory, notifier, secret_key=KEY)

    async def scenario() -> None:
        await s.set_enabled("pat@example.org", True, admin="h")
        await s.update_contacts("pat@example.org", email="pat@home.example", admin="h")
        c = await s.begin_reset("pat@example.org")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(s.send_pin(c.flow_id, "email"), timeout=0.05)
        notifier.slow = False
        try:
            await s.send_pin(c.flow_id, "email")
        except sspr.RateLimited:
            pass  # the cancelled send may count against the cooldown; never a crash or a hang
        else:
            await s.verify_pin(c.flow_id, notifier.last_pin())

    with pytest.warns(RuntimeWarning, match="was dropped"):
        run(scenario())


def test_gil_is_released_while_rust_works() -> None:
    """Python keeps running in other threads while a thread waits inside the engine (here the
    engine pads its answer to 1.5 s on its own timer), and the event loop keeps running other
    tasks while a coroutine of Sspr waits."""
    import time

    s = sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY, policy=sspr.Policy(min_response_ms=1500))
    worker = threading.Thread(target=s.begin_reset, args=("nobody@example.org",))
    t_start = time.monotonic()
    worker.start()
    time.sleep(0.05)
    n = 0
    while n < 20_000:
        n += 1
    # Had the engine kept the GIL, this thread could not have counted until it returned.
    assert worker.is_alive() and time.monotonic() - t_start < 1.4, "Python could not run while the engine worked"
    worker.join()

    async def ticking() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        t = asyncio.ensure_future(ticker())
        await s.asyncio().begin_reset("other@example.org")
        t.cancel()
        return ticks

    assert run(ticking()) >= 10


class WritesThenWaits(AsyncDirectory):
    """A directory whose password writes land at once and whose answers then take 30 s while
    ``slow`` is set (an LDAP server that applied a modify whose reply is still on its way)."""

    def __init__(self) -> None:
        super().__init__()
        self.slow = False
        self.cancelled: List[str] = []

    async def _wait(self, what: str) -> None:
        if self.slow:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.append(what)
                raise

    async def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:  # type: ignore[override]
        SyncDirectory.set_password(self, user_id, password, must_change)
        await self._wait("set_password")

    async def change_password(self, user_id: str, old: sspr.Secret, new: sspr.Secret) -> None:
        self.calls.append("change_password")
        if self.passwords.get(user_id) != old.reveal():
            raise sspr.PasswordRejected("the old password is wrong", refusal="wrong_current_password")
        self.passwords[user_id] = new.reveal()
        await self._wait("change_password")


def test_a_cancelled_write_is_still_announced_and_audited() -> None:
    """An asyncio task cancelled while the directory writes a password (``asyncio.wait_for``'s
    timeout, a web server cancelling the handler of a client gone): sspr-py drops the engine's
    future with the task, and its drop guards still tell the owner and record the event, on
    the engine's own runtime, for a reset's completion and for a password change alike."""
    directory, notifier, audit = WritesThenWaits(), SyncNotifier(), ListAudit()
    directory.add("pat@example.org", "Pat Smith")
    s = sspr.Sspr(directory, notifier, secret_key=KEY, audit=audit, policy=sspr.Policy(min_response_ms=0))

    def kinds(of: str) -> List[str]:
        return [n.kind for n in notifier.sent if n.kind == of]

    def stopped(kind: str) -> List[Dict[str, Any]]:
        return [e for e in audit.events if e["kind"] == kind and e["outcome"]["result"] == "failed"]

    async def scenario() -> None:
        await s.set_enabled("pat@example.org", True, admin="h")
        await s.update_contacts("pat@example.org", email="pat@home.example", admin="h")
        c = await s.begin_reset("pat@example.org")
        await s.send_pin(c.flow_id, "email")
        await s.verify_pin(c.flow_id, notifier.last_pin())
        directory.slow = True
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(s.complete_reset(c.flow_id), timeout=0.3)
        assert directory.cancelled == ["set_password"], "the directory's coroutine was not cancelled"
        temporary = directory.passwords["uid=pat"]
        await s.flush_deliveries()
        assert kinds("password_reset"), "the owner was not told of the reset"
        assert stopped("reset_completed"), audit.events

        # The user's own change, cancelled the same way while the directory makes it.
        task = asyncio.ensure_future(
            s.change_password("pat@example.org", temporary, "Fresh-Harbour-Candle-52"))
        await asyncio.sleep(0.3)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert directory.cancelled == ["set_password", "change_password"]
        assert directory.passwords["uid=pat"] == "Fresh-Harbour-Candle-52"
        await s.flush_deliveries()
        assert kinds("password_changed"), "the owner was not told of the change"
        assert any("may be changed" in e["outcome"]["error"] for e in stopped("password_changed")), audit.events

        # Nothing is stuck: with a directory that answers, the new password signs in.
        directory.slow = False
        await s.sign_in("pat@example.org", "Fresh-Harbour-Candle-52")

    run(scenario())
