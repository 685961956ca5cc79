"""Self-service password reset in a FastAPI app: one ``APIRouter``.

    from fastapi import FastAPI
    import sspr
    from sspr.contrib.fastapi import reset_router

    engine = sspr.Sspr(directory, notifier, secret_key=key)  # your backends, or sspr.backends.from_config
    app = FastAPI()
    app.include_router(reset_router(engine), prefix="/password")

Under the prefix:

- ``GET /`` and the forms it leads to: server-rendered pages without script (the login, where to send the
  code, the code, how to finish, the temporary password shown once). ``pages=False`` leaves them out;
  ``layout=`` wraps them in the site's own page.
- ``POST /api/begin`` ``{"login"}``, ``/api/send`` ``{"method", "confirm"?}``, ``/api/verify`` ``{"pin"}``,
  ``/api/complete`` ``{"mode"?, "password"?}``: the same flow as JSON, for a single-page front end.
  An error is ``{"error": code, "message": text, ...}`` with sspr's stable error code (``"wrong_pin"`` with
  ``attempts_left``, ``"rate_limited"`` with ``retry_after_seconds`` and a ``Retry-After`` header,
  ``"blocked"`` with ``until``, ``"invalid_input"`` with ``field``...).

A bot challenge (the engine's ``bot_challenge``, e.g. ``from_config(...).bot_challenge``): the router asks the
engine what its widget needs (``engine.challenge_widget()``) and reads nothing else. The start page shows the
provider's widget when every begin needs it (policy ``always``; with ``after_begins``, once a begin was refused
for it) and only that page's CSP allows the provider's documented sources; without a challenge every page stays
script-free. The form's ``cf-turnstile-response`` / ``h-captcha-response`` / ``g-recaptcha-response`` field, or
the JSON API's ``"challenge_token"``, goes to ``begin_reset``. A refusal is ``403`` ``"challenge_required"`` or
``"challenge_failed"`` (with ``provider`` and ``site_key`` for the front end's widget), or ``503``
``"challenge_unavailable"`` when the provider cannot be asked (the reset never begins then: fail closed).

Every text a user reads (the pages and the JSON API's ``message``) is sspr's own, from the one catalogue the
portal reads (``sspr.page_text``), in the language negotiated from ``Accept-Language`` among ``languages`` (default
all six: English, German, French, Spanish, Italian, Dutch; English for any other); ``<html lang>`` and
``Content-Language`` name it, and the notices the request causes are in it too. Error codes and fields do not
change with the language.

What it guarantees:

- The flow id lives in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to the prefix; over https it is
  ``__Host-sspr_flow`` (``Secure``, ``Path=/``), which a sibling subdomain cannot set: it never appears in a page,
  a URL or a JSON answer, so a script elsewhere on the site cannot read it and a link cannot carry it. A request
  carrying the flow or CSRF cookie twice (one planted for the parent domain) is refused.
- Cross-site requests change nothing: each form carries a CSRF token matched against a cookie of its own, and a
  form post the browser marks ``Sec-Fetch-Site: same-site`` or ``cross-site`` is refused (a sibling subdomain
  can plant that cookie);
  the JSON API takes ``application/json`` only (a cross-site form cannot send it without a CORS
  preflight) and refuses a foreign ``Origin`` and ``Sec-Fetch-Site: cross-site``.
- Unknown and real logins get the same answers (the engine's decoy contacts), padded by the engine to the
  policy's ``min_response_ms``.
- The client's address for the per-IP limits is the TCP peer, or, when the peer is one of
  ``trusted_proxies``, the nearest address in ``X-Forwarded-For`` that is not a trusted proxy: a client
  cannot choose its own address by sending that header.
- Every answer is ``Cache-Control: no-store``; pages send a CSP that allows no script and no framing.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import inspect
import json
import secrets
import urllib.parse
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, List, Optional, Sequence, Union

try:
    from fastapi import APIRouter, Request
    from fastapi.responses import HTMLResponse, JSONResponse, Response
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("sspr.contrib.fastapi needs FastAPI: pip install fastapi") from exc

import sspr
from sspr.contrib._web import CHALLENGE_FIELD, MAX_BODY, PAGE_CSP, Refusal, challenge_token, no_flow, widget_html
from sspr.contrib._web import CHANNEL_LABELS as _CHANNEL_LABELS
from sspr.contrib._web import MAX_FIELD as _MAX_FIELD
from sspr.contrib._web import MODE_LABELS as _MODE_LABELS
from sspr.contrib._web import Network, client_ip, current_traceparent, describe, locale_of, networks, text
from sspr.contrib._web import languages as _languages
from sspr.contrib._web import text_field as _text

if TYPE_CHECKING:
    from sspr._sspr import Locale

__all__ = ["reset_router", "FLOW_COOKIE", "CSRF_COOKIE"]

#: The cookie holding the reset flow's id (``HttpOnly``, ``SameSite=Strict``, scoped to the prefix); over https it
#: is ``__Host-sspr_flow`` (``Secure``, ``Path=/``), which no sibling subdomain can set.
FLOW_COOKIE = "sspr_flow"
#: The cookie the pages' CSRF token is matched against (``__Host-sspr_csrf`` over https).
CSRF_COOKIE = "sspr_csrf"
#: The prefix the browser keeps for cookies set by this host itself, ``Secure``, ``Path=/`` and without ``Domain``.
_HOST_PREFIX = "__Host-"

_API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": PAGE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: ``layout(title, body_html, lang)``; a two-argument ``layout(title, body_html)`` (from before the pages spoke
#: six languages) still works, without being told the language.
Layout = Union[Callable[[str, str, str], str], Callable[[str, str], str]]


def default_layout(title: str, body: str, lang: str = "en") -> str:
    """The page around each form: a bare, accessible HTML document (``title`` is escaped text, ``body`` HTML,
    ``lang`` the language the page is written in, from ``sspr.negotiate_locale``)."""
    return (
        f"<!doctype html><html lang='{_e(lang)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title></head><body><main><h1>{_e(title)}</h1>{body}</main></body></html>"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


class _Reset:
    """The router's settings and the steps shared by the pages and the JSON API."""

    def __init__(
        self,
        engine: sspr.Sspr,
        trusted_proxies: Sequence[Network],
        allowed_origins: Sequence[str],
        secure_cookies: Optional[bool],
        layout: Layout,
        offered: Optional[List[str]],
    ) -> None:
        self.engine = engine
        self.trusted_proxies = trusted_proxies
        self.allowed_origins = allowed_origins
        self.secure_cookies = secure_cookies
        self.layout = layout
        self.layout_takes_lang = _takes_three(layout)
        self.offered = offered
        # What the bot challenge's widget needs, as the engine says (None: no challenge, no script anywhere).
        self.widget = engine.challenge_widget()

    # -- the request around a step --------------------------------------------------------------------

    def client_ip(self, request: Request) -> Optional[str]:
        peer = request.client.host if request.client else None
        return client_ip(peer, request.headers.getlist("x-forwarded-for"), self.trusted_proxies)

    def locale(self, request: Request) -> "Locale":
        """The language the request is served in (pages, JSON messages, and the notices it causes)."""
        return locale_of(request.headers.get("accept-language"), self.offered)

    def context(self, request: Request) -> sspr.RequestContext:
        return sspr.RequestContext(
            client_ip=self.client_ip(request),
            user_agent=request.headers.get("user-agent"),
            locale=self.locale(request),
            traceparent=current_traceparent(),
        )

    def mount(self, request: Request, own: str) -> str:
        """The path the router is mounted at (the cookies' path): the request's path without the route's own."""
        path = request.url.path
        return (path[: len(path) - len(own)] if path.endswith(own) else "") or "/"

    def flow(self, request: Request) -> str:
        """The flow id from its cookie, or the "this reset has ended" refusal."""
        flow = self.cookie(request, FLOW_COOKIE)
        if not flow:
            raise no_flow()
        return flow

    def secure(self, request: Request) -> bool:
        return request.url.scheme == "https" if self.secure_cookies is None else self.secure_cookies

    def cookie(self, request: Request, base: str) -> str:
        """The one cookie ``base`` (``__Host-`` + ``base`` over https), or ``""``.

        Cookie tossing: a sibling subdomain (or a plain-http answer on the victim's network) can set a cookie of the
        same name for the parent domain, and the browser then sends both. Which one a parser keeps is no defence (a
        planted ``Path=/`` cookie comes last, and Starlette keeps the last): the victim's steps would run on a flow
        the attacker began, and he would complete it. So a name sent twice is refused; over https the name carries
        the ``__Host-`` prefix, which the browser accepts only from this host, and a planted plain name is not read.
        """
        name = _HOST_PREFIX + base if self.secure(request) else base
        values = [
            value
            for header in request.headers.getlist("cookie")
            for key, sep, value in (part.strip().partition("=") for part in header.split(";"))
            if sep and key == name
        ]
        if len(values) > 1:
            raise Refusal.saying(403, "csrf", "err-session")
        return request.cookies.get(name, "") if values else ""

    def set_cookie(self, response: Response, request: Request, base: str, value: str, own: str) -> None:
        """Set cookie ``base`` for the router's prefix (over https: ``__Host-`` + ``base`` with ``Path=/``)."""
        if self.secure(request):
            response.set_cookie(_HOST_PREFIX + base, value, path="/", httponly=True, samesite="strict", secure=True)
        else:
            response.set_cookie(base, value, path=self.mount(request, own), httponly=True, samesite="strict")

    def clear_flow(self, response: Response, request: Request, own: str) -> None:
        if self.secure(request):
            response.delete_cookie(_HOST_PREFIX + FLOW_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        else:
            response.delete_cookie(FLOW_COOKIE, path=self.mount(request, own), httponly=True, samesite="strict")

    def same_origin(self, request: Request) -> bool:
        if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
            return False
        origin = request.headers.get("origin")
        if origin is None:
            return True  # not a browser's cross-origin request (those always name their origin)
        own = f"{request.url.scheme}://{request.url.netloc}"
        return origin == own or origin in self.allowed_origins

    # -- the JSON API ---------------------------------------------------------------------------------

    async def json_body(self, request: Request) -> Dict[str, Any]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise Refusal(415, "unsupported_media_type", "Send the request as application/json.")
        if not self.same_origin(request):
            raise Refusal(403, "cross_origin", "Cross-site requests are refused.")
        try:
            data = json.loads(await _bounded_body(request))
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python reads (a few KB of "[")
            raise Refusal(400, "invalid_input", "The request is not JSON.", field="body") from None
        if not isinstance(data, dict):
            raise Refusal(400, "invalid_input", "The request is not a JSON object.", field="body")
        return data

    async def api(self, step: Callable[[], Awaitable[Response]], request: Request, own: str) -> Response:
        try:
            return await step()
        except (Refusal, sspr.SsprError) as problem:
            refused = describe(problem, self.locale(request))
            body = {"error": refused.code, "message": refused.message, **refused.extra}
            if isinstance(problem, sspr.ChallengeError) and self.widget is not None and refused.status == 403:
                body.update(provider=self.widget.provider, site_key=self.widget.site_key)
            headers = dict(_API_HEADERS)
            if "retry_after_seconds" in refused.extra:
                headers["Retry-After"] = str(refused.extra["retry_after_seconds"])
            response = JSONResponse(body, status_code=refused.status, headers=headers)
            if refused.status == 410:
                self.clear_flow(response, request, own)
            return response

    # -- the pages ------------------------------------------------------------------------------------

    def page(self, lang: str, title: str, body: str, status: int = 200, widget: bool = False) -> HTMLResponse:
        """A page in ``lang``; ``widget``: the one that shows the bot challenge (its CSP allows the provider's
        sources)."""
        headers = dict(_PAGE_HEADERS)
        if widget and self.widget is not None:
            headers["Content-Security-Policy"] = self.widget.csp(PAGE_CSP)
        headers["Content-Language"] = lang
        if self.layout_takes_lang:
            html_text = self.layout(title, body, lang)  # type: ignore[call-arg]
        else:
            html_text = self.layout(title, body)  # type: ignore[call-arg]
        return HTMLResponse(html_text, status_code=status, headers=headers)

    def start_page(self, request: Request, token: str, login: str = "", alert: str = "", status: int = 200,
                   challenged: bool = False) -> HTMLResponse:
        """The login form: with the widget when every begin needs it or a begin was just refused for it."""
        shows = self.widget is not None and (self.widget.always or challenged)
        lang = self.locale(request)
        body = (
            (f"<p role='alert'>{_e(alert)}</p>" if alert else "")
            + f"<p>{_e(text(lang, 'reset-intro'))}</p>"
            + "<form method='post' action='begin'>"
            f"<input type='hidden' name='csrf' value='{_e(token)}'>"
            f"<p><label for='login'>{_e(text(lang, 'login-label'))}</label> "
            "<input id='login' name='login' autocomplete='username' autocapitalize='none' spellcheck='false'"
            f" maxlength='{_MAX_FIELD}' value='{_e(login)}' required autofocus></p>"
            + (widget_html(self.widget) if shows and self.widget is not None else "")
            + f"<p><button>{_e(text(lang, 'continue-btn'))}</button></p></form>"
        )
        return self.page(lang, text(lang, "reset-title"), body, status, widget=shows)

    async def form(self, request: Request) -> Dict[str, str]:
        """The posted form, once its CSRF token matches the cookie's.

        The token is a plain double submit: a sibling subdomain (same-site) can plant the cookie and post a matching
        token, and ``SameSite=Strict`` still sends the victim's flow cookie with a same-site post. The router's own
        pages post same-origin, so a post the browser marks same-site or cross-site is refused before its body is
        read; a client that sends no Fetch Metadata keeps the token check alone."""
        if request.headers.get("sec-fetch-site", "").lower() in ("same-site", "cross-site"):
            raise Refusal.saying(403, "csrf", "err-session")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise Refusal(415, "unsupported_media_type", "Send the form as a browser does.")
        try:
            fields = dict(urllib.parse.parse_qsl((await _bounded_body(request)).decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise Refusal(400, "invalid_input", "The form is not UTF-8.", field="body") from None
        sent, kept = fields.get("csrf", ""), self.cookie(request, CSRF_COOKIE)
        if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
            raise Refusal.saying(403, "csrf", "err-session")
        return fields

    def csrf_field(self, request: Request) -> str:
        return f"<input type='hidden' name='csrf' value='{_e(self.cookie(request, CSRF_COOKIE))}'>"

    async def pages(self, step: Callable[[], Awaitable[Response]], request: Request, own: str) -> Response:
        try:
            return await step()
        except (Refusal, sspr.SsprError) as problem:
            lang = self.locale(request)
            refused = describe(problem, lang)
            start = self.mount(request, own).rstrip("/") + "/"
            body = (
                f"<p role='alert'>{_e(refused.message)}</p>"
                f"<p><a href='{_e(start)}'>{_e(text(lang, 'start-over'))}</a></p>"
            )
            response = self.page(lang, text(lang, "reset-title"), body, refused.status)
            if refused.status == 410:
                self.clear_flow(response, request, own)
            return response


async def _bounded_body(request: Request) -> bytes:
    """The body, or a 413 once it grows past ``MAX_BODY`` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise Refusal.saying(413, "invalid_input", "err-too-large", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise Refusal.saying(413, "invalid_input", "err-too-large", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


def _methods_json(methods: Iterable[Any]) -> List[Dict[str, Any]]:
    return [
        {"id": m.id, "channel": m.channel, "masked": m.masked, "needs_confirmation": m.needs_confirmation}
        for m in methods
    ]


_EXAMPLES = {"trusted_proxies": "10.0.0.0/8", "allowed_origins": "https://app.example.org"}


def _strings(name: str, value: Iterable[str]) -> List[str]:
    """A list option's strings, or ``sspr.ConfigError`` naming it: a ``str`` is not read as its characters."""
    items: List[object] = [] if isinstance(value, (str, bytes)) else list(value)
    if isinstance(value, (str, bytes)) or not all(isinstance(v, str) for v in items):
        raise sspr.ConfigError(f'reset_router: {name} must be a list of strings (["{_EXAMPLES[name]}"])')
    return [str(v) for v in items]


def reset_router(
    engine: Union[sspr.Sspr, sspr.BlockingSspr],
    *,
    pages: bool = True,
    trusted_proxies: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    secure_cookies: Optional[bool] = None,
    layout: Layout = default_layout,
    languages: Optional[Iterable[str]] = None,
) -> APIRouter:
    """An ``APIRouter`` serving the anonymous reset flow on ``engine`` (``app.include_router(router, prefix=...)``).

    ``pages``: also serve the server-rendered pages (``GET /``). ``trusted_proxies``: the addresses or networks
    (``"10.0.0.0/8"``) of the reverse proxies whose ``X-Forwarded-For`` is believed. ``allowed_origins``: other
    origins (``"https://app.example.org"``) whose front end may call the JSON API. ``secure_cookies``: mark the
    cookies ``Secure`` (default: when the request came over https). ``layout(title, body_html)``: the site's
    page around each form (``layout(title, body_html, lang)``; one of two arguments is not told the language).
    ``languages``: the languages served (``["de", "fr"]``; ``["de"]`` forces German; default all six, ``en``,
    ``de``, ``fr``, ``es``, ``it``, ``nl``): each request gets the best of them for its ``Accept-Language``, else
    English when offered, else the first; an unknown one is ``sspr.InvalidInput`` here. The pages, the JSON
    API's messages and the notices the request causes are all in that language. A ``BlockingSspr`` is used
    through its asyncio twin.

    When the app stops, the router's lifespan delivers the pending notices and writes the queued audit events
    (``flush_deliveries()``, then ``flush_audit()``), which would otherwise die with the process; FastAPI runs an
    included router's lifespan from 0.112.2 on.
    """
    # As the Express router: an option of the wrong type is refused by name, never served differently from what
    # the host meant (``allowed_origins="https://app.example.org"`` was a list of its characters, so the front
    # end it names was refused; ``secure_cookies="no"`` was true).
    proxies, origins = _strings("trusted_proxies", trusted_proxies), _strings("allowed_origins", allowed_origins)
    if not isinstance(pages, bool):
        raise sspr.ConfigError("reset_router: pages must be True or False")
    if secure_cookies is not None and not isinstance(secure_cookies, bool):
        raise sspr.ConfigError("reset_router: secure_cookies must be True, False or None")
    if not callable(layout):
        raise sspr.ConfigError("reset_router: layout must be a function (title, body_html, lang) -> html")
    if isinstance(engine, sspr.BlockingSspr):
        engine = engine.asyncio()
    offered = _languages(languages)
    reset = _Reset(engine, networks(proxies), origins, secure_cookies, layout, offered)
    router = APIRouter(lifespan=_flush_at_shutdown(engine))
    _add_api(router, reset)
    if pages:
        _add_pages(router, reset)
    return router


def _flush_at_shutdown(engine: sspr.Sspr) -> Callable[[Any], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        # Deliveries (and the hooks they run) still record events, so they go first.
        await engine.flush_deliveries()
        await engine.flush_audit()

    return lifespan


Step = Callable[[Request], Awaitable[Response]]
Answer = Callable[[Callable[[], Awaitable[Response]], Request, str], Awaitable[Response]]


def _post(router: APIRouter, path: str, answer: Answer) -> Callable[[Step], Step]:
    """Serve ``step`` as ``POST path``, what it refuses answered by ``answer`` (``_Reset.api``: JSON,
    ``_Reset.pages``: a page), which is also told the path (the flow cookie's)."""

    def register(step: Step) -> Step:
        async def endpoint(request: Request) -> Response:
            return await answer(lambda: step(request), request, path)

        router.add_api_route(path, endpoint, methods=["POST"], name=step.__name__)
        return step

    return register


def _add_api(router: APIRouter, reset: _Reset) -> None:
    engine = reset.engine

    @_post(router, "/api/begin", reset.api)
    async def api_begin(request: Request) -> Response:
        data = await reset.json_body(request)
        login, token = _text(data, "login"), challenge_token(data, CHALLENGE_FIELD)
        challenge = await engine.begin_reset(login or "", reset.context(request), challenge_token=token)
        body = {"methods": _methods_json(challenge.methods), "expires_at": challenge.expires_at.isoformat()}
        response = JSONResponse(body, headers=_API_HEADERS)
        reset.set_cookie(response, request, FLOW_COOKIE, challenge.flow_id, "/api/begin")
        return response

    @_post(router, "/api/send", reset.api)
    async def api_send(request: Request) -> Response:
        data = await reset.json_body(request)
        method, confirm = _text(data, "method"), _text(data, "confirm", required=False)
        flow = reset.flow(request)
        sent = await engine.send_pin(flow, method or "", confirm or None, reset.context(request))
        return JSONResponse(
            {
                "expires_at": sent.expires_at.isoformat(),
                "resend_after": sent.resend_after.isoformat(),
                "attempts_left": sent.attempts_left,
            },
            headers=_API_HEADERS,
        )

    @_post(router, "/api/verify", reset.api)
    async def api_verify(request: Request) -> Response:
        pin = _text(await reset.json_body(request), "pin")
        flow = reset.flow(request)
        verified = await engine.verify_pin(flow, pin or "", reset.context(request))
        body = {"modes": list(verified.modes), "remaining_methods": list(verified.remaining_methods)}
        return JSONResponse(body, headers=_API_HEADERS)

    @_post(router, "/api/complete", reset.api)
    async def api_complete(request: Request) -> Response:
        data = await reset.json_body(request)
        mode = _text(data, "mode", required=False) or "temporary"
        password = _text(data, "password", required=False)
        flow = reset.flow(request)
        outcome = await _complete(engine, flow, mode, password, reset.context(request))
        temporary = outcome.temporary_password
        body = {
            # Shown once by the front end; never stored or sent anywhere else.
            "temporary_password": temporary.reveal() if temporary is not None else None,
            "must_change": outcome.must_change,
            "unlocked": outcome.unlocked,
        }
        response = JSONResponse(body, headers=_API_HEADERS)
        reset.clear_flow(response, request, "/api/complete")
        return response


async def _complete(
    engine: sspr.Sspr, flow: str, mode: str, password: Optional[str], ctx: sspr.RequestContext
) -> sspr.ResetOutcome:
    if mode == "temporary":
        return await engine.complete_reset(flow, "temporary", None, ctx)
    if mode == "unlock_only":
        return await engine.complete_reset(flow, "unlock_only", None, ctx)
    if mode == "chosen":
        return await engine.complete_reset(flow, "chosen", password, ctx)
    raise Refusal.saying(400, "invalid_input", "err-field", {"field": "mode"}, field="mode")


def _add_pages(router: APIRouter, reset: _Reset) -> None:
    engine = reset.engine

    @router.get("/")
    async def start(request: Request) -> Response:
        try:
            token = reset.cookie(request, CSRF_COOKIE)
        except Refusal:  # sent twice: one was planted; a new token (the planted cookie still refuses the post)
            token = ""
        token = token or secrets.token_urlsafe(32)
        response = reset.start_page(request, token)
        reset.set_cookie(response, request, CSRF_COOKIE, token, "/")
        return response

    @_post(router, "/begin", reset.pages)
    async def begin(request: Request) -> Response:
        fields = await reset.form(request)
        login = _text(fields, "login") or ""
        widget = reset.widget
        token = challenge_token(fields, widget.response_field) if widget is not None else None
        try:
            challenge = await engine.begin_reset(login, reset.context(request), challenge_token=token)
        except sspr.ChallengeError as err:
            refused = describe(err, reset.locale(request))
            if widget is None or refused.status != 403:
                raise
            # Asked again, with the widget this time (the login kept): the same page for every login.
            return reset.start_page(request, fields.get("csrf", ""), login, refused.message, 403, challenged=True)
        lang = reset.locale(request)
        response = reset.page(lang, text(lang, "methods-intro"), _methods_form(reset, request, challenge.methods))
        reset.set_cookie(response, request, FLOW_COOKIE, challenge.flow_id, "/begin")
        return response

    @_post(router, "/send", reset.pages)
    async def send(request: Request) -> Response:
        fields = await reset.form(request)
        flow = reset.flow(request)
        method = _text(fields, "method") or ""
        confirm = _text(fields, "confirm", required=False)
        sent = await engine.send_pin(flow, method, confirm or None, reset.context(request))
        lang = reset.locale(request)
        said = text(lang, "code-sent-by", channel=method)
        status = text(lang, "pin-status", time=sent.expires_at, attempts=sent.attempts_left)
        body = f"<p>{_e(said)} {_e(status)}</p>" + _pin_form(reset, request)
        return reset.page(lang, text(lang, "code-title"), body)

    @_post(router, "/verify", reset.pages)
    async def verify(request: Request) -> Response:
        fields = await reset.form(request)
        flow = reset.flow(request)
        try:
            verified = await engine.verify_pin(flow, _text(fields, "pin") or "", reset.context(request))
        except sspr.WrongPin as err:
            lang = reset.locale(request)
            alert = f"<p role='alert'>{_e(describe(err, lang).message)}</p>"
            return reset.page(lang, text(lang, "code-title"), alert + _pin_form(reset, request), 400)
        lang = reset.locale(request)
        if verified.remaining_methods:
            buttons = "".join(
                f"<button name='method' value='{_e(m)}'>{_e(text(lang, 'send-by', channel=m))}</button> "
                for m in verified.remaining_methods
            )
            body = (
                f"<p>{_e(text(lang, 'second-method'))}</p>"
                f"<form method='post' action='send'>{reset.csrf_field(request)}"
                f"<p><label for='confirm'>{_e(text(lang, 'confirm-label'))}</label> "
                f"<input id='confirm' name='confirm'></p><p>{buttons}</p></form>"
            )
            return reset.page(lang, text(lang, "second-title"), body)
        return reset.page(lang, text(lang, "modes-title"), _modes_form(reset, request, verified.modes))

    @_post(router, "/complete", reset.pages)
    async def complete(request: Request) -> Response:
        fields = await reset.form(request)
        flow = reset.flow(request)
        mode = _text(fields, "mode", required=False) or "temporary"
        password = _text(fields, "password", required=False) or None
        try:
            outcome = await _complete(engine, flow, mode, password, reset.context(request))
        except sspr.PasswordRejected as err:
            # The flow stays verified: let the user choose again.
            lang = reset.locale(request)
            alert = f"<p role='alert'>{_e(describe(err, lang).message)}</p>"
            modes = _modes_form(reset, request, engine.completion_modes())
            return reset.page(lang, text(lang, "modes-title"), alert + modes, 400)
        lang = reset.locale(request)
        temporary = outcome.temporary_password
        if temporary is None:
            said = text(lang, "unlocked-done" if outcome.unlocked else "chosen-done")
            response = reset.page(lang, text(lang, "done-title"), f"<p>{_e(said)}</p>")
        else:
            # Shown once, never stored or sent anywhere else.
            body = (
                f"<p><code id='temporary-password'>{_e(temporary.reveal())}</code></p>"
                f"<p>{_e(text(lang, 'temp-note'))}</p>"
            )
            response = reset.page(lang, text(lang, "temp-title"), body)
        reset.clear_flow(response, request, "/complete")
        return response


def _methods_form(reset: _Reset, request: Request, methods: Sequence[Any]) -> str:
    lang = reset.locale(request)
    confirm = _e(text(lang, "confirm-label"))
    options = "".join(
        "<p><label><input type='radio' name='method' value='{id}' required{checked}> {label} {masked}</label>{confirm}</p>".format(
            id=_e(m.id),
            checked=" checked" if i == 0 else "",
            label=_e(text(lang, _CHANNEL_LABELS.get(m.channel, "via-email"))),
            masked=_e(m.masked),
            confirm=f"<br><label>{confirm} <input name='confirm'></label>" if m.needs_confirmation else "",
        )
        for i, m in enumerate(methods)
    )
    return (
        f"<form method='post' action='send'>{reset.csrf_field(request)}{options}"
        f"<p><button>{_e(text(lang, 'send-btn'))}</button></p></form>"
    )


def _pin_form(reset: _Reset, request: Request) -> str:
    lang = reset.locale(request)
    return (
        f"<form method='post' action='verify'>{reset.csrf_field(request)}"
        f"<p><label for='pin'>{_e(text(lang, 'pin-label'))}</label> <input id='pin' name='pin' inputmode='numeric'"
        " autocomplete='one-time-code' required autofocus></p>"
        f"<p><button>{_e(text(lang, 'verify-btn'))}</button></p></form>"
    )


def _modes_form(reset: _Reset, request: Request, modes: Sequence[str]) -> str:
    lang = reset.locale(request)
    chosen = (
        f"<p><label for='password'>{_e(text(lang, 'new-password-label'))}</label> "
        "<input id='password' name='password' type='password' autocomplete='new-password'></p>"
        if "chosen" in modes
        else ""
    )
    buttons = "".join(
        f"<button name='mode' value='{_e(m)}'>{_e(text(lang, _MODE_LABELS[m]) if m in _MODE_LABELS else m)}</button> "
        for m in modes
    )
    return f"<form method='post' action='complete'>{reset.csrf_field(request)}{chosen}<p>{buttons}</p></form>"


def _takes_three(layout: Layout) -> bool:
    """Whether ``layout`` takes the page's language as a third argument."""
    try:
        inspect.signature(layout).bind("title", "body", "en")
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): call it as before
        return False
    return True
