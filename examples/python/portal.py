"""A self-service password reset portal with FastAPI on sspr's asyncio API.

Pages: login -> choose where the PIN goes -> type the PIN -> the temporary password, shown
once. Every error of sspr maps to a page a user understands; unknown and real logins look
the same.

Run the demo (in-memory directory, PINs in a development outbox at /dev/outbox):

    pip install ./sspr-py fastapi uvicorn python-multipart
    SSPR_DEV=1 uvicorn --app-dir examples/python portal:app

A deployment builds its own engine (real directory, notifier, store, a secret key from its
configuration) and calls ``create_app(engine)``.
"""

from __future__ import annotations

import html
import ipaddress
import os
import secrets
from typing import Optional

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse

import sspr

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reset your password</title></head>
<body><main>{body}</main></body></html>"""


def page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(body=body), status_code=status)


def e(text: str) -> str:
    return html.escape(text, quote=True)


def context(request: Request) -> sspr.RequestContext:
    """The request's context. Behind a reverse proxy, take the client's address from the
    proxy's header instead (only from proxies you trust)."""
    client: Optional[str] = request.client.host if request.client else None
    try:
        ipaddress.ip_address(client or "")
    except ValueError:
        client = None  # a Unix socket or a test client: no per-IP limits
    return sspr.RequestContext(
        client_ip=client,
        user_agent=request.headers.get("user-agent"),
        accept_language=request.headers.get("accept-language", "en"),
    )


def start_page(message: str = "") -> str:
    note = f"<p role='alert'>{e(message)}</p>" if message else ""
    return (
        f"<h1>Forgot your password?</h1>{note}"
        "<form method='post' action='/reset'><label>Your login <input name='login' autocomplete='username'></label>"
        "<button>Continue</button></form>"
    )


def error_page(err: sspr.SsprError) -> HTMLResponse:
    """What a user sees for each error (never a secret: sspr's messages hold none)."""
    if isinstance(err, sspr.WrongPin):
        return page(f"<p role='alert'>Wrong code, {err.attempts_left} attempt(s) left.</p>", 400)
    if isinstance(err, sspr.RateLimited):
        wait = int(err.retry_after.total_seconds())
        return page(start_page(f"Too many requests. Try again in {wait} seconds."), 429)
    if isinstance(err, sspr.Blocked):
        return page(start_page(f"Self-service reset is blocked until {err.until:%Y-%m-%d %H:%M} UTC."), 403)
    if isinstance(err, (sspr.Expired, sspr.PinVoided, sspr.AlreadyUsed)):
        return page(start_page("This reset has ended. Please start again."), 410)
    if isinstance(err, sspr.InvalidInput):
        return page(start_page(f"Please check your input ({err.field})."), 400)
    if isinstance(err, sspr.PasswordRejected):
        return page(f"<p role='alert'>That password was refused: {e(err.reason)}</p>", 400)
    if isinstance(err, sspr.BackendError):
        return page(start_page("The service is unavailable right now. Please try again later."), 503)
    return page(start_page("This is not possible. Please contact the help desk."), 400)


def create_app(engine: sspr.Sspr, outbox: Optional[sspr.Outbox] = None) -> FastAPI:
    """The portal around ``engine``; ``outbox`` enables the development page /dev/outbox."""
    app = FastAPI(title="Password reset")

    @app.get("/", response_class=HTMLResponse)
    async def start() -> HTMLResponse:
        return page(start_page())

    @app.post("/reset", response_class=HTMLResponse)
    async def reset(request: Request, login: str = Form("")) -> HTMLResponse:
        try:
            challenge = await engine.begin_reset(login, context(request))
        except sspr.SsprError as err:
            return error_page(err)
        options = "".join(
            f"<label><input type='radio' name='method' value='{e(m.id)}' required> {e(m.masked)}</label><br>"
            + ("<label>Type the full address <input name='confirm'></label><br>" if m.needs_confirmation else "")
            for m in challenge.methods
        )
        return page(
            "<h1>Where should we send your code?</h1>"
            f"<form method='post' action='/send'><input type='hidden' name='flow' value='{e(challenge.flow_id)}'>"
            f"{options}<button>Send code</button></form>"
        )

    @app.post("/send", response_class=HTMLResponse)
    async def send(request: Request, flow: str = Form(""), method: str = Form(""), confirm: str = Form("")) -> HTMLResponse:
        try:
            sent = await engine.send_pin(flow, method, confirm or None, context(request))
        except sspr.SsprError as err:
            return error_page(err)
        return page(
            f"<h1>Enter your code</h1><p>The code is valid until {sent.expires_at:%H:%M} UTC.</p>"
            f"<form method='post' action='/verify'><input type='hidden' name='flow' value='{e(flow)}'>"
            "<label>Code <input name='pin' inputmode='numeric' autocomplete='one-time-code'></label>"
            "<button>Verify</button></form>"
        )

    @app.post("/verify", response_class=HTMLResponse)
    async def verify(request: Request, flow: str = Form(""), pin: str = Form("")) -> HTMLResponse:
        try:
            verified = await engine.verify_pin(flow, pin, context(request))
        except sspr.SsprError as err:
            return error_page(err)
        if verified.remaining_methods:
            return page("<p>Please verify your other contact method too.</p>")
        buttons = "".join(
            f"<button name='mode' value='{e(mode)}'>{e(mode.replace('_', ' '))}</button>" for mode in verified.modes
        )
        return page(
            "<h1>Code accepted</h1>"
            f"<form method='post' action='/complete'><input type='hidden' name='flow' value='{e(flow)}'>{buttons}</form>"
        )

    @app.post("/complete", response_class=HTMLResponse)
    async def complete(request: Request, flow: str = Form(""), mode: str = Form("temporary")) -> HTMLResponse:
        if mode not in ("temporary", "unlock_only"):
            return page(start_page("This is not possible."), 400)
        try:
            outcome = await engine.complete_reset(flow, "unlock_only" if mode == "unlock_only" else "temporary", None, context(request))
        except sspr.SsprError as err:
            return error_page(err)
        if outcome.temporary_password is None:
            return page("<h1>Your account is unlocked.</h1>")
        # Shown once, never stored or sent anywhere else.
        shown = e(outcome.temporary_password.reveal())
        return page(
            "<h1>Your temporary password</h1>"
            f"<p><code id='temporary-password'>{shown}</code></p>"
            "<p>Sign in with it now; you will be asked to choose a new password.</p>"
        )

    if outbox is not None:

        @app.get("/dev/outbox", response_class=HTMLResponse)
        async def dev_outbox() -> HTMLResponse:
            rows = "".join(f"<li>{e(n.to)}: {e(n.text())}</li>" for n in reversed(outbox.messages()))
            return page(f"<h1>Development outbox</h1><ul>{rows}</ul>")

    return app


def demo_engine() -> "tuple[sspr.Sspr, sspr.Outbox]":
    """An engine on in-memory backends with two demo users."""
    directory = sspr.MemoryDirectory()
    directory.add("jdoe@example.org", "Jane Doe", "uid=jdoe,ou=staff,dc=example,dc=org")
    directory.add("admin@example.org", "Ada Admin", "uid=admin,ou=staff,dc=example,dc=org", ["Domain Admins"])
    outbox = sspr.Outbox()
    engine = sspr.BlockingSspr(directory, outbox, secret_key=secrets.token_bytes(32))
    engine.set_enabled("jdoe@example.org", True, admin="demo-setup")
    engine.update_contacts("jdoe@example.org", email="jane@home.example", admin="demo-setup")
    return engine.asyncio(), outbox


if os.environ.get("SSPR_DEV") == "1":
    _engine, _outbox = demo_engine()
    app = create_app(_engine, _outbox)
