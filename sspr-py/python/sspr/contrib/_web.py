"""What every web framework's integration shares (``sspr.contrib.fastapi``, ``sspr.contrib.django``): how the
client's address is found behind trusted proxies, what a user is told for each error, and the labels of the
pages. Written once so the integrations answer alike."""

from __future__ import annotations

import html
import ipaddress
import math
from typing import Any, Iterable, List, Optional, Sequence, Union

import sspr

#: Longer text than any login, address, PIN or password sspr accepts: refused before it reaches the engine.
MAX_FIELD = 1024
#: The largest request body the integrations read (a form or JSON object of a few fields); more is refused
#: unread, so a client cannot make the server buffer what it likes.
MAX_BODY = 16 * 1024

CHANNEL_NAMES = {"email": "e-mail", "sms": "text message"}
MODE_LABELS = {
    "temporary": "Get a temporary password",
    "chosen": "Choose a new password",
    "unlock_only": "Only unlock my account",
}

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: The Content-Security-Policy of the integrations' pages: no script, no style, no frame, nothing from elsewhere.
#: The page showing a bot challenge's widget gets ``widget.csp(PAGE_CSP)``: this plus exactly the sources the
#: provider documents (``sspr.ChallengeWidget.csp``).
PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#: The JSON API's field for the bot challenge widget's token (the pages read the provider's own form field,
#: ``widget.response_field``: ``cf-turnstile-response``, ``h-captcha-response``, ``g-recaptcha-response``).
CHALLENGE_FIELD = "challenge_token"
#: Longest challenge token read (the engine refuses one over 4096 bytes, naming ``challenge_token``).
MAX_CHALLENGE_FIELD = 8192

#: What a user is told when a begin was refused by the bot challenge, by ``ChallengeError.reason``.
CHALLENGE_MESSAGES = {
    "required": "Please confirm that you are not a robot, then try again.",
    "failed": "The check that you are not a robot did not pass. Please try again.",
    "unavailable": "The check that you are not a robot is unavailable right now. Please try again later.",
}


class Refusal(Exception):
    """A request refused before it reached the engine (nothing changed), or an engine error as a user reads it."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def describe(err: Union[sspr.SsprError, Refusal]) -> Refusal:
    """The HTTP status, stable code and message for each of sspr's errors (sspr's messages hold no secret;
    these hold less)."""
    if isinstance(err, Refusal):
        return err
    if isinstance(err, sspr.WrongPin):
        return Refusal(400, err.code, f"Wrong code: {err.attempts_left} attempt(s) left.", attempts_left=err.attempts_left)
    if isinstance(err, sspr.RateLimited):
        wait = max(1, math.ceil(err.retry_after.total_seconds()))
        return Refusal(429, err.code, f"Too many requests. Try again in {wait} seconds.", retry_after_seconds=wait)
    if isinstance(err, sspr.Blocked):
        return Refusal(
            403, err.code, f"Self-service reset is blocked until {err.until:%Y-%m-%d %H:%M} UTC.",
            until=err.until.isoformat(),
        )
    if isinstance(err, (sspr.Expired, sspr.PinVoided, sspr.AlreadyUsed)):
        return Refusal(410, err.code, "This reset has ended. Please start again.")
    if isinstance(err, sspr.InvalidState):
        return Refusal(409, err.code, "That step is not possible now. Please start again.")
    if isinstance(err, sspr.InvalidInput):
        return Refusal(400, err.code, f"Please check your input ({err.field}).", field=err.field)
    if isinstance(err, sspr.PasswordRejected):
        return Refusal(400, err.code, f"That password was refused: {err.reason}", reason=err.reason)
    if isinstance(err, sspr.ChallengeError):
        # A stable code per reason (``challenge_required``, ``challenge_failed``, ``challenge_unavailable``): a
        # front end shows the widget for the first two and "try later" for the last, which is the provider's
        # outage, not the user's doing (503).
        reason = err.reason if err.reason in CHALLENGE_MESSAGES else "failed"
        status = 503 if reason == "unavailable" else 403
        return Refusal(status, f"challenge_{reason}", CHALLENGE_MESSAGES[reason], reason=reason)
    if isinstance(err, sspr.SignInFailed):
        return Refusal(401, err.code, "The login or password is not right.")
    if isinstance(err, sspr.BackendError):
        return Refusal(503, err.code, "The service is unavailable right now. Please try again later.")
    return Refusal(403, err.code or "not_allowed", "This is not possible here. Please contact the help desk.")


def challenge_token(data: Any, name: str) -> Optional[str]:
    """The bot challenge widget's token from a form or JSON object (``None`` when absent or blank), or a
    ``Refusal`` naming the field. The engine checks it further (``InvalidInput`` naming ``challenge_token``)."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_CHALLENGE_FIELD:
        raise Refusal(400, "invalid_input", f"Please check your input ({name}).", field=name)
    return value


def widget_html(widget: "sspr.ChallengeWidget") -> str:
    """The provider's script and the element it turns into the widget, for inside the start form."""
    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    return (
        f"<script src='{e(widget.script_url)}' async defer></script>"
        f"<div class='{e(widget.widget_class)}' data-sitekey='{e(widget.site_key)}'></div>"
    )


def no_flow() -> Refusal:
    """What a step without a flow (no cookie, or a session that ended) answers."""
    return Refusal(410, "expired", "This reset has ended. Please start again.")


def text_field(data: Any, name: str, *, required: bool = True) -> Optional[str]:
    """A text field of a form or JSON object, or a ``Refusal`` naming it."""
    value = data.get(name)
    if (value is None or value == "") and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise Refusal(400, "invalid_input", f"Please check your input ({name}).", field=name)
    return value


def networks(trusted_proxies: Iterable[str]) -> List[Network]:
    """``trusted_proxies`` (addresses or networks) parsed, or ``sspr.ConfigError`` naming the bad one."""
    try:
        return [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
    except ValueError as err:
        raise sspr.ConfigError(f"trusted_proxies: {err}") from None


def client_ip(peer: Optional[str], forwarded: Sequence[str], trusted: Sequence[Network]) -> Optional[str]:
    """The client's address for the per-IP limits: the TCP ``peer``, unless it is a trusted proxy; then the
    ``X-Forwarded-For`` values are read from the right (each proxy appends the address it saw) and the first
    hop that is not a trusted proxy is the client. What a client wrote itself, to the left, is never read.
    ``None`` (no per-IP limits) only when the peer is not an IP address (a Unix socket, a test client)."""
    address = _address(peer)
    if address is None:
        return None
    if not any(address in n for n in trusted):
        return str(address)
    nearest = address
    for hop in reversed([h.strip() for value in forwarded for h in value.split(",")]):
        hop_address = _address(hop)
        if hop_address is None:
            break  # a proxy wrote nonsense: count the request against the last address we could trust
        nearest = hop_address
        if not any(hop_address in n for n in trusted):
            break
    return str(nearest)


def _address(text: Optional[str]) -> Any:
    try:
        return ipaddress.ip_address(text or "")
    except ValueError:
        return None
