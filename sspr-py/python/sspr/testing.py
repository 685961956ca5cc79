"""sspr-core's backend conformance suite, run on backends written in Python: prove that a
store or directory you wrote keeps the contract the engine relies on.

Each check returns None when every rule holds; a broken rule raises ``sspr.BackendError``
(kind ``"rejected"``) whose message names it. The store checks call your object's methods
as the engine's concurrent callers do, from an event loop of their own: ``async def`` methods
run as tasks of that loop, so the suite's concurrent calls (racing compare-and-sets and
increments) interleave at your ``await``s, and plain ``def`` methods each run on a thread of
their own, as a threaded web server's requests call them; a store that reads, then writes
(awaiting or not in between) is caught either way. (Called while an event loop runs on this
thread, the check runs on a thread of its own.)
``check_directory`` calls the directory from the calling thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, List, Optional, Sequence

from ._sspr import testing as _native

check_directory = _native.check_directory


def _run(suite: Coroutine[Any, Any, None]) -> None:
    """Run a suite's coroutine on a new event loop (on a thread of its own when one runs here)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(suite)
        return
    failure: List[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(suite)
        except BaseException as e:  # handed back to the caller's thread
            failure.append(e)

    thread = threading.Thread(target=run, name="sspr-conformance")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def check_state_store(store: Any) -> None:
    """Check a ``StateStore``: reads, compare-and-set, counters, expiry, deletes, batches,
    races, exact keys and bytes, and that it keeps every live entry (a cache that evicts fails).
    Expiry is checked with the times of a manual clock the suite moves: the store must judge
    expiry by the ``now`` it is given; then one real wait of 1.1 s checks that its own clock (a
    TTL its server applies) does not end entries early."""
    _run(_native.state_store_suite(store))


def check_contact_store(store: Any) -> None:
    """Check a ``ContactStore``: absent records, versions and compare-and-set saves, races
    included."""
    _run(_native.contact_store_suite(store))


def check_notifier(notifier: Any, *, destinations: Sequence[str], inbox: Optional[Any] = None) -> None:
    """Check a ``Notifier``: every notice the engine sends (PINs, "reset requested",
    reminders, admin alerts...) accepted for each of ``destinations`` (e-mail addresses and
    E.164 numbers: give one of every channel it serves), many PINs at once accepted, and a
    channel it does not serve refused as ``BackendError`` kind ``"rejected"`` (one notice goes
    to an address nobody holds). With ``inbox`` (an object whose ``read(destination)`` returns
    the messages delivered there so far, oldest first, as text) it also checks that each
    notice arrived once, at its own destination only, with its PIN; it waits up to 10 s for
    them. Use destinations nobody else reads while it runs."""
    _run(_native.notifier_suite(notifier, destinations, inbox))


__all__ = ["check_contact_store", "check_directory", "check_notifier", "check_state_store"]
