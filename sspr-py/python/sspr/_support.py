"""Helpers the native module calls back into."""

from __future__ import annotations

import asyncio
import atexit
import threading
import warnings
from typing import Any, Awaitable

_local = threading.local()


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# The engine's bound on one backend call (sspr-core's BACKEND_TIMEOUT). With ``Sspr`` the engine's
# timer gives up a coroutine that has not finished by then; with ``BlockingSspr`` the coroutine runs
# here, inside the engine's step, where that timer cannot interrupt it, so the same bound is kept here.
BACKEND_TIMEOUT_SECS = 30.0


def run_blocking(awaitable: Awaitable[Any]) -> Any:
    """Run a Python backend's coroutine to completion for ``BlockingSspr``, at most
    ``BACKEND_TIMEOUT_SECS``: then it is cancelled and ``TimeoutError`` raised (the engine's
    ``BackendError`` of kind ``unavailable``), as ``Sspr`` gives it up.

    Each thread keeps one private event loop for this, created at first use.
    """
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    task = loop.create_task(_await(awaitable))
    done, _ = loop.run_until_complete(asyncio.wait({task}, timeout=BACKEND_TIMEOUT_SECS))
    if not done:
        # Cancelled, and given a moment for its `finally` blocks (bounded too: a coroutine that
        # swallows the cancellation and waits again is left behind).
        task.cancel()
        loop.run_until_complete(asyncio.wait({task}, timeout=1.0))
        raise TimeoutError(f"no answer within {BACKEND_TIMEOUT_SECS:g} s")
    return task.result()


# How long work the engine handed off (a reset's notice to the owner, its audit event, a PIN on
# its way) may still run once its event loop is closing. ``asyncio.run`` cancels every task left
# when its coroutine returns and closes the loop once they end: a script or task queue calling the
# engine through one ``asyncio.run`` per call would otherwise lose that work without a word. A relay
# that answers at all answers well within it; longer work (a relay that hangs, a PIN retrying a
# notifier that is down) is dropped after it, with a ``RuntimeWarning``.
SHUTDOWN_GRACE_SECS = 10.0

_deliveries: "set[asyncio.Task[Any]]" = set()
# Deliveries whose loop is closing (they were cancelled): they wait for the others, not the
# other way round.
_closing: "set[asyncio.Task[Any]]" = set()


def spawn(run: Any, delivery: Any) -> None:
    """Run one of the engine's deliveries as a task of the running event loop.

    The loop keeps only weak references to its tasks: hold each until it is done.
    """
    _lost_with_their_loop()
    loop = asyncio.get_running_loop()
    task = loop.create_task(run(delivery, SHUTDOWN_GRACE_SECS, closing))
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
    task.add_done_callback(_closing.discard)


def _lost_with_their_loop() -> None:
    """Warn of deliveries whose loop was closed before they ran (``loop.close()`` without cancelling its tasks
    first, as ``asyncio.run`` does): they never will. Checked at each new delivery and at exit."""
    lost = {t for t in _deliveries if t.get_loop().is_closed() and not t.done()}
    if lost:
        _deliveries.difference_update(lost)
        warnings.warn(
            f"sspr: {len(lost)} piece(s) of work the engine handed off (a notice, an audit event or a PIN delivery) "
            "never finished: their event loop was closed without running them; await flush_deliveries() and "
            "flush_audit() before closing it",
            RuntimeWarning,
            stacklevel=2,
        )


atexit.register(_lost_with_their_loop)


async def closing(end: str) -> None:
    """Called by a delivery cancelled by its loop's shutdown, once its work is ``done`` or was
    dropped after the grace period (``abandoned``): warn of a drop, then keep the loop running
    until the deliveries started since the shutdown began (work this one handed on, a notice a
    cancelled call still owed) end too. The shutdown did not cancel those (it had already
    looked): they are cancelled here, so each finishes within its own grace period."""
    if end == "abandoned":
        warnings.warn(
            "sspr: work the engine handed off (a notice, an audit event or a PIN delivery) was still "
            f"running {SHUTDOWN_GRACE_SECS:g} s after its event loop began to close, and was dropped: "
            "await flush_deliveries() and flush_audit() before the loop ends",
            RuntimeWarning,
            stacklevel=1,
        )
    me = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if me is not None:
        _closing.add(me)
    while True:
        rest = {t for t in _deliveries if t.get_loop() is loop and t not in _closing and not t.done()}
        if not rest:
            return
        for t in rest:
            t.cancel()
        await asyncio.wait(rest)
