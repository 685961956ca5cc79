"""A self-service password reset portal with FastAPI on sspr's asyncio API: ``sspr.contrib.fastapi``'s router
at /password (the pages, and the same flow as a JSON API), a redirect from /, and a development outbox.

Run the demo (in-memory directory, PINs in a development outbox at /dev/outbox):

    pip install ./sspr-py fastapi uvicorn python-multipart
    SSPR_DEV=1 uvicorn --app-dir examples/python portal:app

A deployment builds its own engine (real directory, notifier, store, a secret key from its
configuration, e.g. with ``sspr.backends.from_config``) and calls ``create_app(engine)``; behind a reverse
proxy, pass its address as ``trusted_proxies``. When the server stops, the router's lifespan flushes the pending
deliveries and the queued audit events.
"""

from __future__ import annotations

import html
import os
import secrets
from typing import Optional, Sequence

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

import sspr
from sspr.contrib.fastapi import reset_router


def create_app(
    engine: sspr.Sspr, outbox: Optional[sspr.Outbox] = None, trusted_proxies: Sequence[str] = ()
) -> FastAPI:
    """The portal around ``engine``; ``outbox`` enables the development page /dev/outbox."""

    app = FastAPI(title="Password reset")
    app.include_router(reset_router(engine, trusted_proxies=trusted_proxies), prefix="/password")

    @app.get("/")
    async def start() -> RedirectResponse:
        return RedirectResponse("/password/", status_code=303)

    if outbox is not None:

        @app.get("/dev/outbox", response_class=HTMLResponse)
        async def dev_outbox() -> HTMLResponse:
            rows = "".join(
                f"<li>{html.escape(n.to)}: {html.escape(n.text())}</li>" for n in reversed(outbox.messages())
            )
            return HTMLResponse(f"<!doctype html><title>Outbox</title><h1>Development outbox</h1><ul>{rows}</ul>")

    return app


def demo_engine() -> "tuple[sspr.Sspr, sspr.Outbox]":
    """An engine on in-memory backends with two demo users."""
    directory = sspr.MemoryDirectory()
    directory.add("jdoe@example.org", "Jane Doe", "uid=jdoe,ou=staff,dc=example,dc=org")
    directory.add("admin@example.org", "Ada Admin", "uid=admin,ou=staff,dc=example,dc=org", ["Domain Admins"])
    outbox = sspr.Outbox()
    # The demo's addresses are under `.example`: decoys for unknown logins take the same TLD, or a
    # `.com` decoy would tell them apart at a glance (list your users' real TLDs).
    policy = sspr.Policy(decoy_email_tlds=["example"])
    engine = sspr.BlockingSspr(directory, outbox, secret_key=secrets.token_bytes(32), policy=policy)
    engine.set_enabled("jdoe@example.org", True, admin="demo-setup")
    engine.update_contacts("jdoe@example.org", email="jane@home.example", admin="demo-setup")
    return engine.asyncio(), outbox


if os.environ.get("SSPR_DEV") == "1":
    _engine, _outbox = demo_engine()
    app = create_app(_engine, _outbox)
