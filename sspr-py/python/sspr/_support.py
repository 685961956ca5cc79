"""Helpers the native module calls back into."""

from __future__ import annotations

import asyncio
import threading
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


_deliveries: "set[asyncio.Task[Any]]" = set()


def spawn(coroutine: Any) -> None:
    """Run one of the engine's deliveries as a task of the running event loop.

    The loop keeps only weak references to its tasks: hold each until it is done.
    """
    task = asyncio.get_running_loop().create_task(coroutine)
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
