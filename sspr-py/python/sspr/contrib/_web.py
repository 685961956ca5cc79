"""What every web framework's integration shares (``sspr.contrib.fastapi``, ``sspr.contrib.django``): how the
client's address is found behind trusted proxies, how an error's answer is said (the answer itself is sspr-core's
one rule, carried by every ``sspr.SsprError``), and the pages' language. Written once so the integrations answer
alike. Every text a user reads comes from sspr-core's one catalogue
(``sspr.page_text``), in the language negotiated from ``Accept-Language`` (``sspr.negotiate_locale``)."""

from __future__ import annotations

import html
import ipaddress
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import sspr

if TYPE_CHECKING:
    from sspr._sspr import Locale

#: Longer text than any login, address, PIN or password sspr accepts: refused before it reaches the engine.
MAX_FIELD = 1024
#: The largest request body the integrations read (a form or JSON object of a few fields); more is refused
#: unread, so a client cannot make the server buffer what it likes.
MAX_BODY = 16 * 1024

#: The ways a verified reset is completed, each with its label's message id in the pages' catalogue.
MODE_LABELS = {"temporary": "mode-temporary", "chosen": "mode-chosen", "unlock_only": "mode-unlock"}
#: The label before a masked contact ("E-mail to", "SMS an"), by channel.
CHANNEL_LABELS = {"email": "via-email", "sms": "via-sms"}

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

Args = Dict[str, Union[str, int, Any]]


_NO_OPENTELEMETRY = object()
_trace_api: Any = None


def current_traceparent() -> Optional[str]:
    """The W3C ``traceparent`` of the host's current OpenTelemetry span, for ``sspr.RequestContext``: with
    ``sspr.export_traces`` the engine's spans of the request become its children. ``None`` when
    ``opentelemetry`` (the API package) is not installed or no valid span is current.

    It is read from the host's own context (``opentelemetry.trace.get_current_span()``), never from the
    request's ``traceparent`` header: a client's header could force every one of its requests to be sampled
    (``ParentBased`` follows the parent's flag) or put them in a trace of its choosing. Whether a client's
    header is believed is the host's OpenTelemetry instrumentation's decision, made once for all its spans.
    The span's context is read rather than ``propagate.inject``'s output, so a host whose propagators are
    B3 or none still gets its spans' children."""
    global _trace_api
    if _trace_api is None:
        try:
            from opentelemetry import trace
        except ImportError:
            _trace_api = _NO_OPENTELEMETRY
        else:
            _trace_api = trace
    if _trace_api is _NO_OPENTELEMETRY:
        return None
    context = _trace_api.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags) & 0xFF:02x}"


def text(locale: str, id: str, **args: Any) -> str:
    """Message ``id`` of the pages' catalogue in ``locale`` (one of ``sspr.negotiate_locale``'s answers)."""
    return sspr.page_text(locale, id, args or None)


def languages(offered: Optional[Iterable[str]]) -> Optional[List[str]]:
    """The languages a router serves (``None``: all six), checked now: ``sspr.InvalidInput`` naming ``locale``
    at start-up for one sspr does not have, instead of at the first request."""
    if offered is None:
        return None
    names = [offered] if isinstance(offered, str) else list(offered)
    sspr.negotiate_locale(None, names)
    return names


def locale_of(accept_language: Optional[str], offered: Optional[Sequence[str]]) -> "Locale":
    """The language a request is served in: its ``Accept-Language`` negotiated among ``offered``."""
    return sspr.negotiate_locale(accept_language, list(offered) if offered is not None else None)


class Refusal(Exception):
    """A request refused before it reached the engine (nothing changed), or an engine error as a user reads it.

    ``said`` is the catalogue's message (id and arguments) that ``describe`` writes in the request's language;
    a refusal without it (a protocol error only a developer sees, like a JSON body that is not JSON) keeps its
    English ``message``."""

    def __init__(
        self, status: int, code: str, message: str, *, said: Optional[Tuple[str, Args]] = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.said, self.extra = status, code, message, said, extra

    @classmethod
    def saying(cls, status: int, code: str, id: str, args: Optional[Args] = None, **extra: Any) -> "Refusal":
        """A refusal whose message is the catalogue's ``id`` (English until ``describe`` gives it a language)."""
        args = args or {}
        return cls(status, code, text("en", id, **args), said=(id, args), **extra)


def describe(err: Union[sspr.SsprError, Refusal], locale: str = "en") -> Refusal:
    """The HTTP status, stable code and message in ``locale`` for an error: an engine error's own answer, which
    sspr-core gives every error it raises (``http_status``, ``answer_code``, ``message_id``, ``message_args``,
    ``answer_fields``: one rule for the portal and every router), or a refusal of the router's own, said in
    ``locale``. Neither holds a secret."""
    if isinstance(err, Refusal):
        if err.said is None:
            return err
        id, args = err.said
        return Refusal(err.status, err.code, text(locale, id, **args), said=err.said, **err.extra)
    args = dict(err.message_args)
    return Refusal(
        err.http_status,
        err.answer_code,
        text(locale, err.message_id, **args),
        said=(err.message_id, args),
        **err.answer_fields,
    )


def challenge_token(data: Any, name: str) -> Optional[str]:
    """The bot challenge widget's token from a form or JSON object (``None`` when absent or blank), or a
    ``Refusal`` naming the field. The engine checks it further (``InvalidInput`` naming ``challenge_token``)."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_CHALLENGE_FIELD or not _utf8(value):
        raise _bad_field(name)
    return value


def _utf8(value: str) -> bool:
    """Whether UTF-8 can hold ``value``: JSON's ``"\\ud800"`` is a ``str`` Python reads, but a lone surrogate cannot
    cross into the engine (a ``UnicodeEncodeError``, a 500, instead of a refusal naming the field)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bad_field(name: str) -> Refusal:
    return Refusal.saying(400, "invalid_input", "err-field", {"field": name}, field=name)


def widget_html(widget: "sspr.ChallengeWidget") -> str:
    """The provider's script and the element it turns into the widget, for inside the start form."""
    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    return (
        f"<script src='{e(widget.script_url)}' async defer></script>"
        f"<div class='{e(widget.widget_class)}' data-sitekey='{e(widget.site_key)}'></div>"
    )


def no_flow() -> Refusal:
    """What a step without a flow (no cookie, or a session that ended) answers."""
    return Refusal.saying(410, "expired", "err-expired")


def text_field(data: Any, name: str, *, required: bool = True) -> Optional[str]:
    """A text field of a form or JSON object, or a ``Refusal`` naming it."""
    value = data.get(name)
    if (value is None or value == "") and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD or not _utf8(value):
        raise _bad_field(name)
    return value


def networks(trusted_proxies: Iterable[Union[str, Network]]) -> sspr.TrustedProxies:
    """``trusted_proxies`` (addresses or networks, ``"10.0.0.0/8"``) parsed once by sspr-core, or
    ``sspr.ConfigError`` naming the bad one. ``ipaddress`` networks and addresses are taken as their text."""
    if isinstance(trusted_proxies, (str, bytes)):
        raise sspr.ConfigError('trusted_proxies: a list of addresses or networks (["10.0.0.0/8"])')
    entries = [str(p) if isinstance(p, _IP_OBJECTS) else p for p in trusted_proxies]
    if not all(isinstance(p, str) for p in entries):
        raise sspr.ConfigError('trusted_proxies: a list of addresses or networks (["10.0.0.0/8"])')
    return sspr.TrustedProxies(entries)


_IP_OBJECTS = (ipaddress.IPv4Network, ipaddress.IPv6Network, ipaddress.IPv4Address, ipaddress.IPv6Address)


def client_ip(
    peer: Optional[str], forwarded: Sequence[str], trusted: Union[sspr.TrustedProxies, Iterable[Network]]
) -> Optional[str]:
    """The client's address for the per-IP limits, by sspr-core's one rule (the portal's): the TCP ``peer``,
    unless it is a trusted proxy; then the ``X-Forwarded-For`` values are read from the right (each proxy
    appends the address it saw) and the first hop that is not a trusted proxy is the client, never read past a
    hop that is not a clean address. What a client wrote itself, to the left, is never read. ``None`` (no
    per-IP limits) only when the peer is not an IP address (a Unix socket, a test client)."""
    if not isinstance(trusted, sspr.TrustedProxies):
        trusted = networks(trusted)
    return trusted.client_ip(peer, list(forwarded))
