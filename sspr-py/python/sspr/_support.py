"""Helpers the native module calls back into."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Awaitable

_local = threading.local()


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def run_blocking(awaitable: Awaitable[Any]) -> Any:
    """Run a Python backend's coroutine to completion for ``BlockingSspr``.

    Each thread keeps one private event loop for this, created at first use.
    """
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop.run_until_complete(_await(awaitable))


_deliveries: "set[asyncio.Task[Any]]" = set()


def spawn(coroutine: Any) -> None:
    """Run one of the engine's deliveries as a task of the running event loop.

    The loop keeps only weak references to its tasks: hold each until it is done.
    """
    task = asyncio.get_running_loop().create_task(coroutine)
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
