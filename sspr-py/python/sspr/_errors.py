"""The exceptions of sspr: one class per variant of the core's error, under ``SsprError``.

Their text never holds a PIN or a password. Attributes carry what a portal acts on
(``WrongPin.attempts_left``, ``RateLimited.retry_after``, ``Blocked.until``, ...).
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, Union


class SsprError(Exception):
    """Base class of every error sspr raises.

    ``code`` is the error's stable snake_case code (``"wrong_pin"``, ``"backend"``...), the
    same in every binding: branch on it or on the class, never on the message. Each subclass
    carries its code, so one a host raises itself (``sspr.InvalidInput("...", field="email")``)
    has it too; ``SsprError`` itself has none (``""``) unless sspr raised it.

    What a web user is told for it, by sspr-core's one rule (``sspr_core::pages::describe``, the
    same in the portal and every binding's router): ``http_status`` (400, 401, 403, 409, 410, 429,
    503), ``answer_code`` (the code, except a bot challenge's ``challenge_required``,
    ``challenge_failed``, ``challenge_unavailable``), ``message_id`` and ``message_args`` (for
    ``sspr.page_text(locale, err.message_id, err.message_args)``), and ``answer_fields``, what a
    JSON front end acts on (``attempts_left``, ``retry_after_seconds``, ``until`` as RFC 3339,
    ``field``, ``reason``; only those that apply). sspr sets them on every error it raises; one
    made in Python keeps these defaults (403, "not possible").
    """

    code: str = ""
    http_status: int = 403
    answer_code: str = "not_allowed"
    message_id: str = "err-not-possible"
    message_args: Dict[str, Union[str, int, datetime.datetime]] = {}
    answer_fields: Dict[str, Union[str, int]] = {}

    def __init__(self, message: str = "", **attrs: Any) -> None:
        super().__init__(message)
        for name, value in attrs.items():
            setattr(self, name, value)


class InvalidInput(SsprError):
    """An argument sspr does not accept (malformed login, address, flow id...). Nothing changed.

    ``field`` names the argument, ``reason`` says why (safe to show; never echoes a secret).
    """

    code = "invalid_input"

    field: str
    reason: str


class WrongPin(SsprError):
    """The PIN did not match; ``attempts_left`` more tries remain for this PIN."""

    code = "wrong_pin"

    attempts_left: int


class PinVoided(SsprError):
    """Too many wrong PINs: this PIN is void, start a new reset."""

    code = "pin_voided"


class Expired(SsprError):
    """The reset flow or its PIN has expired (or the flow id is unknown): start a new reset."""

    code = "expired"


#: The name DESIGN.md uses for ``Expired``.
PinExpired = Expired


class AlreadyUsed(SsprError):
    """The flow was already completed, or its PIN already used."""

    code = "already_used"


class InvalidState(SsprError):
    """The step does not fit the flow's state (e.g. verifying before a PIN was sent)."""

    code = "invalid_state"

    reason: str


class RateLimited(SsprError):
    """Too many requests: try again after ``retry_after`` (a ``timedelta``)."""

    code = "rate_limited"

    retry_after: datetime.timedelta


class Blocked(SsprError):
    """Self-service reset is blocked for this user until ``until`` (aware UTC datetime)."""

    code = "blocked"

    until: datetime.datetime


class NotAllowed(SsprError):
    """The policy does not permit this. ``reason``: ``"privileged"``, ``"ineligible"``,
    ``"not_enabled"``, ``"account_disabled"``, ``"mode_disabled"``, ``"admin_only"`` or
    ``"contact_unproven"`` (a new contact not yet confirmed with the code sent to it)."""

    code = "not_allowed"

    reason: str


class ChallengeError(SsprError):
    """``begin_reset`` needs a solved bot challenge (``code`` ``"challenge"``). ``reason``:
    ``"required"`` (no token given), ``"failed"`` (the provider refused it) or
    ``"unavailable"`` (the provider could not be asked; the reset is not started)."""

    code = "challenge"

    reason: str


class PasswordRejected(SsprError):
    """A password was refused by the password policy, a password checker or the directory:
    ``reason`` in words to show the user, ``refusal`` the rule's stable name (``too_short``,
    ``guessable``, ``breached``, ``banned``, and the directory's
    ``too_recent``, ``in_history``, ``too_simple``, ...), ``suggestions`` zxcvbn's advice (a list,
    possibly empty). Never the password itself.

    A Python ``Directory.set_password`` raises it to report that the directory's own
    password policy refused the password.
    """

    code = "password_rejected"

    reason: str
    refusal: str
    suggestions: list[str]

    def __init__(self, message: str = "", **attrs: Any) -> None:
        attrs.setdefault("reason", message)
        attrs.setdefault("refusal", "unspecified")
        super().__init__(message, **attrs)


class SignInFailed(SsprError):
    """The login or password is not right (one answer for both: sign-in reveals no accounts)."""

    code = "sign_in_failed"


class UnknownUser(SsprError):
    """An administrative operation named a user the directory does not have."""

    code = "unknown_user"


class ConfigError(SsprError):
    """The engine or policy was configured wrongly; the message names the field."""

    code = "config"


class BackendError(SsprError):
    """A backend failed; nothing was half-done and the call can be retried.

    ``kind`` is ``"unavailable"``, ``"password_rejected"``, ``"rejected"``, ``"not_supported"``
    or ``"other"``. When a Python backend raised, its exception is ``__cause__``.

    A Python backend may raise one itself, naming the kind:
    ``raise sspr.BackendError("LDAP is down", kind="unavailable")``; the engine's error then has
    that kind. A name sspr does not have is ``InvalidInput`` (field ``kind``) at once.
    """

    code = "backend"

    kind: str

    def __init__(self, message: str = "", **attrs: Any) -> None:
        if "kind" in attrs:
            from ._sspr import parse_name  # (the extension imports this module first)

            attrs["kind"] = parse_name("backend_error_kind", attrs["kind"])
        super().__init__(message, **attrs)


__all__ = [
    "AlreadyUsed",
    "BackendError",
    "Blocked",
    "ConfigError",
    "Expired",
    "InvalidInput",
    "InvalidState",
    "NotAllowed",
    "ChallengeError",
    "PasswordRejected",
    "PinExpired",
    "PinVoided",
    "RateLimited",
    "SignInFailed",
    "SsprError",
    "UnknownUser",
    "WrongPin",
]
