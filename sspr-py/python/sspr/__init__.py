"""sspr: self-service password reset for Python portals and automation scripts.

The engine is sspr's Rust core; this package converts Python values to it and back.

- ``sspr.Sspr``: the asyncio API (``await s.begin_reset(login)``), for FastAPI, aiohttp...
- ``sspr.BlockingSspr``: the same operations for scripts and threaded servers (Flask).
- ``sspr.Policy``: the reset policy (keyword arguments, a dict, TOML or JSON).
- Backends: the in-memory ones here (``MemoryDirectory``, ``Outbox``, ...), the real ones in
  ``sspr.backends`` (as built), or your own Python objects implementing the protocols of
  ``sspr.protocols`` (sync ``def`` or ``async def``).
- Errors: ``sspr.SsprError`` and one subclass per case (``WrongPin``, ``RateLimited``, ...).

A reset, blocking::

    import secrets, sspr
    directory = sspr.MemoryDirectory()
    directory.add("jdoe@example.org", "Jane Doe", "uid=jdoe,ou=staff,dc=example,dc=org")
    outbox = sspr.Outbox()
    s = sspr.BlockingSspr(directory, outbox, secret_key=secrets.token_bytes(32))
    s.set_enabled("jdoe@example.org", True, admin="helpdesk")
    s.update_contacts("jdoe@example.org", email="jane@home.example", admin="helpdesk")
    challenge = s.begin_reset("jdoe@example.org")
    s.send_pin(challenge.flow_id, "email")
    s.verify_pin(challenge.flow_id, outbox.last_pin_to("jane@home.example"))
    outcome = s.complete_reset(challenge.flow_id)
    print(outcome.temporary_password)           # ********
    show_once(outcome.temporary_password.reveal())
"""

from __future__ import annotations

from . import backends, primitives, protocols, testing
from ._errors import (
    AlreadyUsed,
    BackendError,
    Blocked,
    ConfigError,
    Expired,
    InvalidInput,
    InvalidState,
    NotAllowed,
    ChallengeError,
    PasswordRejected,
    PinExpired,
    PinVoided,
    RateLimited,
    SignInFailed,
    SsprError,
    UnknownUser,
    WrongPin,
)
from ._sspr import (
    BlockingSspr,
    ChannelNotifier,
    Contacts,
    ContactView,
    DirectoryUser,
    Enrollment,
    ManualClock,
    MemoryAuditSink,
    MemoryContactStore,
    MemoryDirectory,
    MemoryStateStore,
    MethodOption,
    Notification,
    Outbox,
    PasswordRules,
    ChallengeWidget,
    ContactProof,
    Recovered,
    RecoveryCode,
    RecoverySent,
    EnrollmentCounts,
    EnrollmentEntry,
    EnrollmentReport,
    ReminderRun,
    PinSent,
    Policy,
    RequestContext,
    ResetChallenge,
    ResetOutcome,
    Secret,
    SignedIn,
    Sspr,
    StoredContactView,
    TraceExport,
    TrustedProxies,
    UserStatus,
    Verified,
    export_traces,
    negotiate_locale,
    page_text,
    parse_name,
)
from .protocols import AuditSink, ContactStore, Directory, Notifier, PasswordChecker, StateStore

__version__ = "0.1.0"

__all__ = [
    "AlreadyUsed",
    "AuditSink",
    "PasswordChecker",
    "BackendError",
    "Blocked",
    "BlockingSspr",
    "ChannelNotifier",
    "ConfigError",
    "ContactStore",
    "StateStore",
    "ContactView",
    "Contacts",
    "Directory",
    "DirectoryUser",
    "Enrollment",
    "Expired",
    "InvalidInput",
    "InvalidState",
    "ManualClock",
    "MemoryAuditSink",
    "MemoryContactStore",
    "MemoryDirectory",
    "MemoryStateStore",
    "MethodOption",
    "NotAllowed",
    "ChallengeError",
    "Notification",
    "Notifier",
    "Outbox",
    "PasswordRejected",
    "PasswordRules",
    "ChallengeWidget",
    "PinExpired",
    "ContactProof",
    "Recovered",
    "RecoveryCode",
    "RecoverySent",
    "EnrollmentCounts",
    "EnrollmentEntry",
    "EnrollmentReport",
    "ReminderRun",
    "PinSent",
    "PinVoided",
    "Policy",
    "RateLimited",
    "RequestContext",
    "ResetChallenge",
    "ResetOutcome",
    "Secret",
    "SignInFailed",
    "SignedIn",
    "Sspr",
    "SsprError",
    "StoredContactView",
    "TraceExport",
    "TrustedProxies",
    "UnknownUser",
    "UserStatus",
    "Verified",
    "WrongPin",
    "export_traces",
    "negotiate_locale",
    "page_text",
    "parse_name",
    "backends",
    "primitives",
    "protocols",
]
