"""The backend protocols a Python object implements to serve as a directory, a contact
store, a notifier or an audit sink.

Every method may be a plain ``def`` or an ``async def``; sspr awaits what is awaitable.
A plain ``def`` runs on the thread that called sspr: the event loop's thread for
``sspr.Sspr`` (keep it quick, or make it ``async def``), the calling thread for
``sspr.BlockingSspr``. An ``async def`` runs on the caller's event loop for ``Sspr`` and on
a private event loop of the calling thread for ``BlockingSspr``. When the caller's task is
cancelled (``asyncio.wait_for`` timing out), the backend's coroutine receives
``CancelledError``. Anything a method raises becomes ``sspr.BackendError`` with the
original exception as ``__cause__`` (``ConnectionError``/``TimeoutError``/``OSError`` give
``kind == "unavailable"``); ``Directory.set_password`` raises ``sspr.PasswordRejected`` when
the directory's own policy refuses the password. Never put a password or PIN into an
exception or a log.

A backend must not call back into the same ``Sspr`` from inside a method.
"""

from __future__ import annotations

import datetime
from typing import Any, Awaitable, Dict, List, Literal, Optional, Protocol, Tuple, Union, runtime_checkable

from ._sspr import DirectoryUser, Enrollment, Notification, Secret

#: What ``Directory.authenticate`` answers.
Authentication = Literal["accepted", "must_change", "rejected"]


@runtime_checkable
class Directory(Protocol):
    """The directory holding the accounts."""

    def find_user(self, login: str) -> Union[Optional[DirectoryUser], Awaitable[Optional[DirectoryUser]]]:
        """The one user whose login matches ``login`` (already lower-cased and NFKC).

        Match case-insensitively and escape ``login`` for your query language: it is
        untrusted. Return ``None`` for no match and for more than one match.
        """
        ...

    def set_password(self, user_id: str, password: Secret, must_change: bool) -> Union[None, Awaitable[None]]:
        """Set the password (``password.reveal()``) with "must change at next sign-in" when
        ``must_change``, in one operation. Raise ``sspr.PasswordRejected(reason)`` when the
        directory's policy refuses it."""
        ...

    def unlock(self, user_id: str) -> Union[None, Awaitable[None]]:
        """Clear a lockout (idempotent)."""
        ...

    def authenticate(self, user_id: str, password: Secret) -> Union[Authentication, Awaitable[Authentication]]:
        """Check the user's own password: ``"accepted"``, ``"must_change"`` (right, but a
        temporary one that must be changed first) or ``"rejected"`` (wrong, or the account may
        not sign in)."""
        ...

    def search(self, query: str, limit: int) -> Union[List[DirectoryUser], Awaitable[List[DirectoryUser]]]:
        """Users whose login or display name contains ``query`` (case-insensitive, escaped for
        your query language), at most ``limit``.

        Optional, not part of this protocol's check: ``change_password(user_id, old, new)``
        (both ``Secret``), the user's own change, checking ``old`` and applying the
        directory's history and minimum age; raise ``sspr.PasswordRejected(reason,
        refusal=...)`` (``"wrong_current_password"``, ``"in_history"``, ``"too_recent"``,
        ...) to refuse. Without it, ``change_password`` answers ``BackendError`` of kind
        ``"not_supported"``."""
        ...


@runtime_checkable
class ContactStore(Protocol):
    """Where enrollments (enabled flag, alternate e-mail, mobile) are kept.

    A store may also offer ``list(after: str | None, limit: int)``: up to ``limit``
    ``(user_id, Enrollment)`` pairs whose id sorts after ``after``, ascending, for the enrollment
    report (without it the engine reads the users the directory lists one by one)."""

    def get(self, user_id: str) -> Union[Optional[Enrollment], Awaitable[Optional[Enrollment]]]:
        """The stored enrollment with its version, or ``None``."""
        ...

    def save(self, user_id: str, enrollment: Enrollment, expected_version: int) -> Union[bool, Awaitable[bool]]:
        """Compare-and-set: store ``enrollment.with_version(expected_version + 1)`` only if
        the stored version is ``expected_version`` (0: no record yet) and return True;
        otherwise change nothing and return False."""
        ...


@runtime_checkable
class StateStore(Protocol):
    """Where flows, counters and blocks live (shared by every engine instance that shares
    limits). Judge expiry by the ``now`` given, never by your own clock; ``sspr.testing.
    check_state_store`` runs the engine's contract on an implementation."""

    def get(self, key: str, now: datetime.datetime) -> Union[Optional[Tuple[bytes, int]], Awaitable[Optional[Tuple[bytes, int]]]]:
        """``(value, version)`` of a value that has not expired at ``now``, else ``None`` (also for a key
        holding a counter of ``increment``: keep counters apart from values)."""
        ...

    def put(
        self, key: str, value: bytes, expected_version: Optional[int], expires_at: datetime.datetime, now: datetime.datetime
    ) -> Union[Optional[int], Awaitable[Optional[int]]]:
        """Compare-and-set: write if the live version is ``expected_version`` (``None``: no
        live value) and return the new version (1 for a new value, else one more); otherwise
        change nothing and return ``None``."""
        ...

    def increment(
        self, key: str, expires_at: datetime.datetime, now: datetime.datetime
    ) -> Union[Tuple[int, datetime.datetime], Awaitable[Tuple[int, datetime.datetime]]]:
        """Add one to a counter (a new or expired one starts at 1 and expires at
        ``expires_at``; a live one keeps its expiry) and return ``(count, expires_at)``."""
        ...

    def delete(self, key: str) -> Union[None, Awaitable[None]]:
        """Remove a value or counter (absent is fine)."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Delivers PINs and notices by e-mail or SMS."""

    def send(self, notification: Notification) -> Union[None, Awaitable[None]]:
        """Deliver one notice (``notification.to``, ``.subject``, ``.text()``). Return once it is
        accepted for delivery; raise if it was not."""
        ...


@runtime_checkable
class AuditSink(Protocol):
    """Receives the audit trail (events never hold a secret)."""

    def record(self, event: Dict[str, Any]) -> Union[None, Awaitable[None]]:
        """Store or forward one event (the core's versioned JSON form, as a dict)."""
        ...


@runtime_checkable
class PasswordChecker(Protocol):
    """A check of a password a user chose (a reset with mode "chosen", a password change), run
    after the policy's own checks, in the order given to the engine's ``password_checkers``."""

    def check(self, password: Secret, login: str, display_name: str) -> Union[Optional[str], Awaitable[Optional[str]]]:
        """None accepts the password; a reason (shown to the user) refuses it. Raise
        ``TimeoutError``, ``ConnectionError`` or ``OSError`` when the check cannot be made (the
        policy's ``password_check_fail_open`` decides); any other exception refuses."""
        ...


__all__ = ["AuditSink", "Authentication", "ContactStore", "Directory", "Notifier", "PasswordChecker"]
