"""The pages: the anonymous reset, contact registration after a sign-in, and the change of a known password.

Each view converts a form into one engine call and the answer into a template (``sspr/<page>.html``, which a site
overrides by name). The rules (enumeration defence, padding, limits, blocks, PINs) are the engine's; what a user
is told for each error comes from ``sspr.contrib._web``, shared with the other framework integrations. The flow id
and the signed-in login live in Django's session, whose key is cycled when a reset starts, when its code is verified
and at sign-in.

Every page is in the language negotiated from the request's ``Accept-Language`` among ``SSPR["languages"]``
(default: all six of sspr's; ``["de"]`` forces German), with texts from sspr's one catalogue: the views put
``lang`` in each template's context, translated messages in ``error``/``message``, and the templates write their
own texts with ``{% load sspr_pages %}{% page_text "id" %}`` (a site's own templates may do the same).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

import sspr
from sspr.contrib._web import (
    CHANNEL_LABELS,
    MODE_LABELS,
    Refusal,
    challenge_token,
    client_ip,
    current_traceparent,
    describe,
    languages,
    locale_of,
    networks,
    no_flow,
    text,
    text_field,
)
from sspr.contrib.django.apps import x_frame_options
from sspr.contrib.django.engine import engine

if TYPE_CHECKING:
    from sspr._sspr import Locale

FLOW = "sspr_flow"
USER = "sspr_user"
PROOF = "sspr_proof"
#: When the registration sign-in began and when it was last used (``time.time()``).
USER_SINCE = "sspr_user_since"
USER_SEEN = "sspr_user_seen"
#: The registration sign-in ends after this many seconds unused, and this many after it began, as the portal's
#: session does (``session_idle_minutes``, ``session_max_minutes``), whatever Django's session lifetime (two weeks
#: by default, kept across browser restarts): the directory password is not asked again for that long.
SIGN_IN_IDLE_SECONDS = 15 * 60
SIGN_IN_MAX_SECONDS = 60 * 60


def _lang(request: HttpRequest) -> "Locale":
    """The language of the request's pages and of the notices it causes."""
    offered = languages(getattr(settings, "SSPR", {}).get("languages"))
    return locale_of(request.META.get("HTTP_ACCEPT_LANGUAGE"), offered)


def _context(request: HttpRequest) -> sspr.RequestContext:
    trusted = networks(getattr(settings, "SSPR", {}).get("trusted_proxies", ()))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    return sspr.RequestContext(
        client_ip=client_ip(request.META.get("REMOTE_ADDR"), [forwarded] if forwarded else [], trusted),
        user_agent=request.META.get("HTTP_USER_AGENT"),
        locale=_lang(request),
        traceparent=current_traceparent(),
    )


def _field(request: HttpRequest, name: str, required: bool = True) -> Optional[str]:
    return text_field(request.POST, name, required=required)


def _page(request: HttpRequest, template: str, status: int = 200, **values: Any) -> HttpResponse:
    lang = _lang(request)
    response = render(request, f"sspr/{template}.html", {"lang": lang, **values}, status=status)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = lang
    # No Referrer-Policy of our own: with "no-referrer" Chromium posts forms with "Origin: null", which
    # Django's CSRF check refuses; Django's default ("same-origin") leaks nothing, as no URL holds a secret.
    return response


#: The policy of the page showing the bot challenge's widget, before the provider's sources are added
#: (``widget.csp(...)``): no script but the provider's; the site's own styles and images (``'self'``) still load
#: in an overridden template. Django sends no CSP of its own on the other pages (a site's middleware may).
WIDGET_PAGE_CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def _start(request: HttpRequest, status: int = 200, challenged: bool = False, **values: Any) -> HttpResponse:
    """The login form, with the bot challenge's widget when every begin needs it (policy ``always``) or a begin
    was just refused for it; only then does the page allow the provider's script (and its CSP says so)."""
    widget = engine().challenge_widget()
    shows = widget is not None and (widget.always or challenged)
    response = _page(request, "reset_start", status, widget=widget if shows else None, **values)
    if shows and widget is not None:
        response["Content-Security-Policy"] = widget.csp(WIDGET_PAGE_CSP)
    return response


def _refused(request: HttpRequest, problem: Any, back: str) -> HttpResponse:
    refusal = describe(problem, _lang(request))
    response = _page(request, "message", refusal.status, message=refusal.message, back=back)
    if refusal.status == 429 and "retry_after_seconds" in refusal.extra:
        response["Retry-After"] = str(refusal.extra["retry_after_seconds"])
    return response


View = Callable[[HttpRequest], HttpResponse]

#: The posted fields that hold a secret: a directory password (to sign in, the current and the new one of a change,
#: one chosen at a reset), a PIN, a registration code. Django's error reports (the ``mail_admins`` handler, error
#: trackers reading the same filter) show them as stars, as they do for ``LoginView``'s password.
SECRET_FIELDS = ("password", "current", "new", "pin", "code")


def _view(*methods: str, back: str) -> Callable[[View], View]:
    """A page of the flows: never cached, CSRF-checked, answering only ``methods``, never framed by another site
    (``X-Frame-Options``, on every answer including the CSRF and method refusals). A refusal or an engine error
    the view does not answer itself is the message page leading back to ``back`` (never an error past the view)."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def answer(request: HttpRequest) -> HttpResponse:
            try:
                return view(request)
            except (Refusal, sspr.SsprError) as problem:
                return _refused(request, problem, back)

        checked = sensitive_post_parameters(*SECRET_FIELDS)(
            never_cache(csrf_protect(require_http_methods(list(methods))(answer)))
        )

        @functools.wraps(view)
        def unframed(request: HttpRequest) -> HttpResponse:
            response = checked(request)
            # Set here, not left to the site's XFrameOptionsMiddleware (which may be absent, or say SAMEORIGIN
            # for the whole site): that middleware keeps a header a view has set.
            response["X-Frame-Options"] = x_frame_options(getattr(settings, "SSPR", {}))
            return response

        return unframed

    return wrap


def _signed_in(request: HttpRequest) -> Optional[str]:
    """The login signed in to the registration pages, or ``None`` (never signed in, or the sign-in ended: 15
    minutes unused or an hour old; then it is forgotten, with its pending proof)."""
    login, since, seen = (request.session.get(key) for key in (USER, USER_SINCE, USER_SEEN))
    if not isinstance(login, str):
        return None
    now = time.time()
    fresh = (
        isinstance(since, (int, float)) and isinstance(seen, (int, float))
        and now - since <= SIGN_IN_MAX_SECONDS and now - seen <= SIGN_IN_IDLE_SECONDS
    )
    if not fresh:
        for key in (USER, USER_SINCE, USER_SEEN, PROOF):
            request.session.pop(key, None)
        return None
    request.session[USER_SEEN] = now
    return login


def _flow(request: HttpRequest) -> str:
    flow = request.session.get(FLOW)
    if not isinstance(flow, str) or not flow:
        raise no_flow()
    return flow


def _methods(lang: str, challenge_methods: Any) -> list[Dict[str, Any]]:
    """Each method with its label in ``lang`` ("E-Mail an"), before the masked contact."""
    return [
        {"id": m.id, "channel": m.channel, "label": text(lang, CHANNEL_LABELS.get(m.channel, "via-email")),
         "masked": m.masked, "needs_confirmation": m.needs_confirmation}
        for m in challenge_methods
    ]


def _modes(lang: str, modes: Any) -> list[Dict[str, str]]:
    return [{"id": m, "label": text(lang, MODE_LABELS[m]) if m in MODE_LABELS else m} for m in modes]


# -- the anonymous reset -----------------------------------------------------------------------------


@_view("GET", "POST", back="sspr:reset")
def reset(request: HttpRequest) -> HttpResponse:
    """The login form; posted, the contact methods (the same shape for every login)."""
    if request.method == "GET":
        return _start(request)
    widget = engine().challenge_widget()
    login = ""
    try:
        login = _field(request, "login") or ""
        token = challenge_token(request.POST, widget.response_field) if widget is not None else None
        challenge = engine().begin_reset(login, _context(request), challenge_token=token)
    except sspr.ChallengeError as err:
        refusal = describe(err, _lang(request))
        if widget is None or refusal.status != 403:
            raise
        # Asked again, with the widget this time (the login kept): the same page for every login.
        return _start(request, 403, challenged=True, error=refusal.message, login=login)
    request.session.cycle_key()  # a new flow, a new session key: nothing fixed in advance carries over
    request.session[FLOW] = challenge.flow_id
    return _page(request, "reset_methods", methods=_methods(_lang(request), challenge.methods))


@_view("POST", back="sspr:reset")
def reset_send(request: HttpRequest) -> HttpResponse:
    """Send the PIN by the chosen method; the PIN form."""
    method = _field(request, "method") or ""
    sent = engine().send_pin(_flow(request), method, _field(request, "confirm", False), _context(request))
    return _page(request, "reset_pin", sent=sent, channel=method)


@_view("POST", back="sspr:reset")
def reset_verify(request: HttpRequest) -> HttpResponse:
    """Check the PIN; the ways to finish (or the form for a second code)."""
    try:
        verified = engine().verify_pin(_flow(request), _field(request, "pin") or "", _context(request))
    except sspr.WrongPin as err:
        return _page(request, "reset_pin", 400, error=describe(err, _lang(request)).message)
    # A proven code is a privilege change: a new key again. The key cycled at the start does not cover a session
    # cookie planted after it (a sibling subdomain setting ``sessionid`` for the parent domain, newest and so read
    # last), holding a flow the attacker began for the victim's login: he would complete what the victim verified.
    request.session.cycle_key()
    if verified.remaining_methods:
        remaining = [{"id": m} for m in verified.remaining_methods]
        return _page(request, "reset_second", remaining=remaining)
    return _page(request, "reset_modes", modes=_modes(_lang(request), verified.modes))


@_view("POST", back="sspr:reset")
def reset_complete(request: HttpRequest) -> HttpResponse:
    """Finish: the temporary password, shown once (or the account unlocked, or the chosen password set)."""
    mode = _field(request, "mode", False) or "temporary"
    if mode not in MODE_LABELS:
        raise Refusal.saying(400, "invalid_input", "err-field", {"field": "mode"}, field="mode")
    flow = _flow(request)
    password = _field(request, "password", False) if mode == "chosen" else None
    try:
        outcome = engine().complete_reset(flow, mode, password, _context(request))  # type: ignore[arg-type]
    except sspr.PasswordRejected as err:
        lang = _lang(request)
        return _page(request, "reset_modes", 400, modes=_modes(lang, engine().completion_modes()),
                     error=describe(err, lang).message)
    request.session.pop(FLOW, None)
    temporary = outcome.temporary_password
    # Shown once, never stored or sent anywhere else.
    return _page(request, "reset_done", temporary=temporary.reveal() if temporary is not None else None,
                 unlocked=outcome.unlocked)


# -- contact registration ----------------------------------------------------------------------------


@_view("GET", "POST", back="sspr:register")
def register(request: HttpRequest) -> HttpResponse:
    """Sign in with the directory password; then the user's contacts and the form to add one."""
    login = _signed_in(request)
    if request.method == "POST" and "password" in request.POST:
        signed = engine().sign_in_self_service(
            _field(request, "login") or "", _field(request, "password") or "", _context(request)
        )
        request.session.cycle_key()
        request.session[USER] = signed.login
        request.session[USER_SINCE] = request.session[USER_SEEN] = time.time()
        return redirect("sspr:register")
    if not isinstance(login, str):
        return _page(request, "register_signin")
    if request.method == "POST":  # a new contact: a code goes to it, typing it back saves it
        channel = _field(request, "channel") or ""
        proof = engine().request_contact_proof(login, channel, _field(request, "value") or "", ctx=_context(request))
        request.session[PROOF] = proof.proof_id
        return _page(request, "register_confirm", proof=proof)
    return _page(request, "register_contacts", login=login, contacts=engine().contacts(login))


@_view("POST", back="sspr:register")
def register_confirm(request: HttpRequest) -> HttpResponse:
    """Type back the code sent to the new contact: it is saved (with the policy's cooling-off and notices)."""
    login, proof = _signed_in(request), request.session.get(PROOF)
    if not isinstance(login, str) or not isinstance(proof, str):
        return redirect("sspr:register")
    engine().confirm_contact_proof(login, proof, _field(request, "code") or "", ctx=_context(request))
    request.session.pop(PROOF, None)
    return redirect("sspr:register")


@_view("POST", back="sspr:register")
def register_sign_out(request: HttpRequest) -> HttpResponse:
    """Forget the signed-in user."""
    request.session.flush()
    return redirect("sspr:register")


# -- changing a known password -----------------------------------------------------------------------


@_view("GET", "POST", back="sspr:change")
def change(request: HttpRequest) -> HttpResponse:
    """The directory's own change with the current password (its history and minimum age apply)."""
    rules = engine().password_rules()
    if request.method == "GET":
        return _page(request, "change", rules=rules)
    try:
        engine().change_password(
            _field(request, "login") or "", _field(request, "current") or "", _field(request, "new") or "",
            _context(request),
        )
    except sspr.PasswordRejected as err:
        return _page(request, "change", 400, rules=rules, error=describe(err, _lang(request)).message)
    return _page(request, "change_done")
