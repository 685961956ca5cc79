"""sspr.contrib.fastapi over real HTTP: a uvicorn server on 127.0.0.1 in a thread, driven by httpx as a browser
and as an attacker would drive it. The README's few lines are run exactly as written (test_readme_snippet)."""

from __future__ import annotations

import datetime
import json
import pathlib
import re
import socket
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

import sspr
from sspr import primitives
from conftest import (
    CHALLENGE_SECRET,
    CHALLENGE_SITE_KEY,
    GOOD_CHALLENGE,
    JANE,
    JANE_DN,
    JANE_MAIL,
    KEY,
    SiteVerify,
    seed_directory,
)
from sspr.contrib.fastapi import CSRF_COOKIE, FLOW_COOKIE, reset_router

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


class Server:
    """An ASGI app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app: Any, sock: Optional[socket.socket] = None) -> None:
        # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1 itself (its
        # --forwarded-allow-ips default), and these tests are the client, not a proxy.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        sockets = [sock] if sock is not None else None
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": sockets}, daemon=True)
        self.url = ""

    def __enter__(self) -> "Server":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert self.thread.is_alive(), "uvicorn stopped"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


class Site:
    """A FastAPI app with the router at /password on an engine over in-memory backends."""

    def __init__(
        self, policy: Optional[sspr.Policy] = None, clock: Optional[sspr.ManualClock] = None, **router_options: Any
    ) -> None:
        self.directory, self.outbox = seed_directory(), sspr.Outbox()
        self.engine = sspr.BlockingSspr(
            self.directory, self.outbox, secret_key=KEY, policy=policy or sspr.Policy(min_response_ms=0), clock=clock
        )
        self.engine.set_enabled(JANE, True, admin="helpdesk")
        self.engine.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
        self.app = FastAPI()
        self.app.include_router(reset_router(self.engine, **router_options), prefix="/password")

    def pin(self) -> str:
        secret = self.outbox.last_pin_to(JANE_MAIL)
        assert secret is not None
        return secret.reveal()


@pytest.fixture
def site() -> Iterator[Tuple[Site, str]]:
    s = Site()
    with Server(s.app) as server:
        yield s, server.url


def api(client: httpx.Client, step: str, body: Dict[str, Any], **headers: str) -> httpx.Response:
    return client.post(f"/password/api/{step}", json=body, headers=headers)


def set_cookie_headers(response: httpx.Response) -> List[str]:
    return response.headers.get_list("set-cookie")


def test_json_api_runs_a_whole_reset_with_the_flow_only_in_an_httponly_cookie(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url) as client:
        begun = api(client, "begin", {"login": JANE})
        assert begun.status_code == 200, begun.text
        assert begun.json()["methods"] == [
            {"id": "email", "channel": "email", "masked": "j***@h***.example", "needs_confirmation": False}
        ]
        flow_cookie = next(c for c in set_cookie_headers(begun) if c.startswith(FLOW_COOKIE + "="))
        flow_id = flow_cookie.split(";")[0].split("=", 1)[1]
        assert re.search(r"(?i); httponly", flow_cookie) and re.search(r"(?i); samesite=strict", flow_cookie)
        assert re.search(r"(?i); path=/password(;|$)", flow_cookie)
        assert flow_id and flow_id not in begun.text  # never in the answer a script can read
        assert begun.headers["cache-control"] == "no-store"

        sent = api(client, "send", {"method": "email"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["attempts_left"] >= 1
        verified = api(client, "verify", {"pin": s.pin()})
        assert verified.status_code == 200, verified.text
        assert "temporary" in verified.json()["modes"] and verified.json()["remaining_methods"] == []

        done = api(client, "complete", {"mode": "temporary"})
        assert done.status_code == 200, done.text
        temporary = done.json()["temporary_password"]
        assert done.json()["must_change"] is True
        assert s.directory.check_password(JANE_DN, temporary) is True
        assert s.directory.password_state(JANE_DN) is True  # must change at next sign-in
        # The flow cookie is gone, and the flow with it: a second completion is refused.
        assert any(c.startswith(FLOW_COOKIE + '=""') or "max-age=0" in c.lower() for c in set_cookie_headers(done))
        client.cookies.set(FLOW_COOKIE, flow_id, path="/password")
        again = api(client, "complete", {"mode": "temporary"})
        assert again.status_code in (409, 410), again.text
        assert s.directory.check_password(JANE_DN, temporary) is True


def test_unknown_and_real_logins_get_the_same_shape(site: Tuple[Site, str]) -> None:
    s, url = site
    shapes = []
    for login in (JANE, "nobody@example.org", "root@example.org", "gone@example.org"):
        with httpx.Client(base_url=url) as client:
            begun = api(client, "begin", {"login": login})
            assert begun.status_code == 200, (login, begun.text)
            assert FLOW_COOKIE in client.cookies
            body = begun.json()
            shapes.append((sorted(body), [sorted(m) for m in body["methods"]][:1]))
            # Sending to a decoy answers like a real send.
            sent = api(client, "send", {"method": body["methods"][0]["id"]})
            assert sent.status_code == 200, (login, sent.text)
            assert sorted(sent.json()) == ["attempts_left", "expires_at", "resend_after"]
    assert all(shape == shapes[0] for shape in shapes)
    # Only Jane, the one enabled user, was sent a code.
    assert {n.to for n in s.outbox.messages()} == {JANE_MAIL}


def test_a_cross_site_form_or_foreign_origin_changes_nothing(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url) as client:
        # What a hostile page's <form> can send: urlencoded or text/plain bodies.
        as_form = client.post("/password/api/begin", data={"login": JANE})
        assert as_form.status_code == 415 and as_form.json()["error"] == "unsupported_media_type"
        as_text = client.post(
            "/password/api/begin", content=b'{"login": "jdoe@example.org"}', headers={"content-type": "text/plain"}
        )
        assert as_text.status_code == 415
        foreign = api(client, "begin", {"login": JANE}, origin="https://evil.example")
        assert foreign.status_code == 403 and foreign.json()["error"] == "cross_origin"
        fetched = api(client, "begin", {"login": JANE}, **{"sec-fetch-site": "cross-site"})
        assert fetched.status_code == 403
        assert FLOW_COOKIE not in client.cookies
        # Same origin is fine.
        assert api(client, "begin", {"login": JANE}, origin=url).status_code == 200
        # A send without the cookie, as a cross-site request carries none under SameSite=Strict.
        client.cookies.clear()
        orphan = api(client, "send", {"method": "email"})
        assert orphan.status_code == 410 and orphan.json()["error"] == "expired"
    assert len(s.outbox) == 0


def test_bad_input_gets_a_typed_error_naming_the_field(site: Tuple[Site, str]) -> None:
    _, url = site
    with httpx.Client(base_url=url) as client:
        for body, field in (({}, "login"), ({"login": 42}, "login"), ({"login": "x" * 5000}, "login")):
            answer = api(client, "begin", body)
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"] == "invalid_input" and answer.json()["field"] == field
        broken = client.post("/password/api/begin", content=b"{not json", headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["field"] == "body"
        # JSON nested deeper than Python's recursion limit (a few KB of brackets): the same typed 400, not a 500.
        deep = client.post("/password/api/begin", content=b"[" * 5000, headers={"content-type": "application/json"})
        assert deep.status_code == 400 and deep.json()["field"] == "body", deep.text
        # A JSON string Python reads but UTF-8 cannot hold (a lone surrogate escape) names its field, not a 500.
        for body, field in ((b'{"login": "\\ud800"}', "login"), (b'{"login": "a", "challenge_token": "\\udfff"}',
                                                                 "challenge_token")):
            lone = client.post("/password/api/begin", content=body, headers={"content-type": "application/json"})
            assert lone.status_code == 400 and lone.json()["field"] == field, lone.text
        # A body far larger than any form is refused, not buffered: as JSON, and as a form.
        huge = b'{"login": "' + b"x" * (256 * 1024) + b'"}'
        too_big = client.post("/password/api/begin", content=huge, headers={"content-type": "application/json"})
        assert too_big.status_code == 413
        client.get("/password/")
        form = client.post("/password/begin", data={"csrf": client.cookies[CSRF_COOKIE], "login": "x" * (256 * 1024)})
        assert form.status_code == 413
        assert api(client, "begin", {"login": JANE}).status_code == 200
        mode = api(client, "complete", {"mode": "everything"})
        assert mode.status_code in (400, 409)


def test_wrong_pins_count_down_then_void_the_flow(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url) as client:
        api(client, "begin", {"login": JANE})
        left = api(client, "send", {"method": "email"}).json()["attempts_left"]
        real = s.pin()
        wrong = "0" * len(real) if real != "0" * len(real) else "1" * len(real)
        answers = [api(client, "verify", {"pin": wrong}) for _ in range(left)]
        assert [a.json().get("attempts_left") for a in answers[:-1]] == list(range(left - 1, 0, -1))
        assert all(a.json()["error"] == "wrong_pin" for a in answers[:-1])
        # The last wrong PIN voids it (and, under the default policy, blocks the user); the right PIN is
        # refused after that.
        assert answers[-1].json()["error"] in ("pin_voided", "blocked"), answers[-1].text
        assert answers[-1].status_code in (403, 410)
        late = api(client, "verify", {"pin": real})
        assert late.status_code in (403, 409, 410) and late.json()["error"] != "wrong_pin", late.text
        for a in answers:
            assert real not in a.text and wrong not in a.text


def test_pages_run_a_whole_reset_with_csrf_tokens(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url, follow_redirects=True) as client:
        start = client.get("/password/")
        assert start.status_code == 200
        assert "script-src" not in start.headers["content-security-policy"]
        assert "default-src 'none'" in start.headers["content-security-policy"]
        token = re.search(r"name='csrf' value='([^']+)'", start.text)
        assert token is not None
        csrf = token.group(1)
        page = client.post("/password/begin", data={"csrf": csrf, "login": JANE})
        assert page.status_code == 200 and "j***@h***.example" in page.text
        page = client.post("/password/send", data={"csrf": csrf, "method": "email"})
        assert page.status_code == 200 and "Enter your code" in page.text
        real = s.pin()
        wrong = client.post("/password/verify", data={"csrf": csrf, "pin": "1" * len(real) if real[0] != "1" else "2" * len(real)})
        assert wrong.status_code == 400 and re.search(r"The code is wrong\. \d+ attempts? left\.", wrong.text)
        page = client.post("/password/verify", data={"csrf": csrf, "pin": real})
        assert page.status_code == 200 and "Code accepted" in page.text
        page = client.post("/password/complete", data={"csrf": csrf, "mode": "temporary"})
        assert page.status_code == 200
        shown = re.search(r"<code id='temporary-password'>([^<]+)</code>", page.text)
        assert shown is not None
        assert s.directory.check_password(JANE_DN, shown.group(1).replace("&amp;", "&")) is True


def test_a_form_without_the_csrf_token_changes_nothing(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url) as client:
        client.get("/password/")
        assert CSRF_COOKIE in client.cookies
        for data in ({"login": JANE}, {"login": JANE, "csrf": "guessed"}):
            refused = client.post("/password/begin", data=data)
            assert refused.status_code == 403
            assert FLOW_COOKIE not in client.cookies
    with httpx.Client(base_url=url) as stranger:  # a token but no cookie: what a cross-site post carries
        refused = stranger.post("/password/begin", data={"login": JANE, "csrf": "x" * 43})
        assert refused.status_code == 403
    assert len(s.outbox) == 0


def test_a_form_posted_from_a_sibling_subdomain_is_refused_whatever_cookie_it_planted(site: Tuple[Site, str]) -> None:
    """A sibling subdomain is same-site: it can set ``sspr_csrf`` for the router's path and post a form carrying the
    same token, and the victim's ``SameSite=Strict`` flow cookie goes along (between verify and complete, that is a
    password of the attacker's choosing). The browser marks such a post ``Sec-Fetch-Site: same-site``."""
    s, url = site
    for origin in ("same-site", "cross-site"):
        with httpx.Client(base_url=url) as client:
            client.cookies.set(CSRF_COOKIE, "planted-token")
            refused = client.post("/password/begin", data={"login": JANE, "csrf": "planted-token"},
                                  headers={"sec-fetch-site": origin})
            assert refused.status_code == 403, origin
            assert FLOW_COOKIE not in client.cookies
    assert len(s.outbox) == 0
    # The router's own page posts same-origin (and a client without Fetch Metadata keeps the token check).
    with httpx.Client(base_url=url) as client:
        client.cookies.set(CSRF_COOKIE, "planted-token")
        own = client.post("/password/begin", data={"login": JANE, "csrf": "planted-token"},
                          headers={"sec-fetch-site": "same-origin"})
        assert own.status_code == 200, own.text


def _flow_of(response: httpx.Response, name: str = FLOW_COOKIE) -> str:
    cookie = next(c for c in set_cookie_headers(response) if c.startswith(name + "="))
    return cookie.split(";")[0].split("=", 1)[1]


def test_a_flow_cookie_planted_by_a_sibling_subdomain_cannot_take_over_the_victims_reset() -> None:
    """Cookie tossing. A sibling subdomain (or whoever answers the victim's plain-http request) sets ``sspr_flow``
    for the parent domain with ``Path=/``, holding a flow the attacker began for the victim's login. The browser
    then sends both flow cookies, the victim's own (``Path=/password``) first and the planted one last, and a
    last-wins cookie parser read the planted one: the victim's send and verify went to the attacker's flow (method
    ids are the channel's name, the same in every flow), and the attacker completed it. Measured on main: one
    planted cookie, the victim's ordinary reset, then the attacker's ``/api/complete`` got a temporary password
    that signed in as the victim."""
    site = Site()
    with Server(site.app) as server:
        with httpx.Client(base_url=server.url) as attacker:
            planted = _flow_of(api(attacker, "begin", {"login": JANE}))
        with httpx.Client(base_url=server.url) as victim:
            own = _flow_of(api(victim, "begin", {"login": JANE}))
        # What the victim's browser sends from now on: its own cookie, then the planted one (shorter path last).
        both = {"cookie": f"{FLOW_COOKIE}={own}; {FLOW_COOKIE}={planted}"}
        with httpx.Client(base_url=server.url) as victim:
            sent = victim.post("/password/api/send", json={"method": "email"}, headers=both)
            assert sent.status_code == 403 and sent.json()["error"] == "csrf", sent.text
            assert len(site.outbox) == 0  # nothing sent on either flow
        # The same through the pages: refused before the form is read.
        with httpx.Client(base_url=server.url) as victim:
            victim.get("/password/")
            token = victim.cookies[CSRF_COOKIE]
            page = victim.post("/password/send", data={"method": "email", "csrf": token},
                               headers={"cookie": f"{CSRF_COOKIE}={token}; " + both["cookie"]})
            assert page.status_code == 403, page.text
        assert len(site.outbox) == 0

    # Over https the flow cookie is ``__Host-sspr_flow``: the browser takes it only from this host, with ``Secure``,
    # ``Path=/`` and no ``Domain``, so a sibling cannot set it, and the plain name it can set is never read.
    site = Site(secure_cookies=True)
    with Server(site.app) as server:
        with httpx.Client(base_url=server.url) as attacker:
            planted = _flow_of(api(attacker, "begin", {"login": JANE}), "__Host-" + FLOW_COOKIE)
        with httpx.Client(base_url=server.url) as victim:
            begun = api(victim, "begin", {"login": JANE})
            cookie = next(c for c in set_cookie_headers(begun) if c.startswith("__Host-" + FLOW_COOKIE + "="))
            assert re.search(r"(?i); path=/(;|$)", cookie) and re.search(r"(?i); secure", cookie), cookie
            assert "domain" not in cookie.lower()
            own = _flow_of(begun, "__Host-" + FLOW_COOKIE)
        browser = {"cookie": f"__Host-{FLOW_COOKIE}={own}; {FLOW_COOKIE}={planted}"}
        with httpx.Client(base_url=server.url) as victim:
            assert victim.post("/password/api/send", json={"method": "email"}, headers=browser).status_code == 200
            verified = victim.post("/password/api/verify", json={"pin": site.pin()}, headers=browser)
            assert verified.status_code == 200, verified.text
        with httpx.Client(base_url=server.url) as attacker:
            stolen = attacker.post("/password/api/complete", json={"mode": "temporary"},
                                   headers={"cookie": f"__Host-{FLOW_COOKIE}={planted}"})
            assert stolen.status_code == 409 and "temporary_password" not in stolen.json(), stolen.text
        with httpx.Client(base_url=server.url) as victim:
            done = victim.post("/password/api/complete", json={"mode": "temporary"}, headers=browser)
            assert done.status_code == 200, done.text
            assert site.directory.check_password(JANE_DN, done.json()["temporary_password"]) is True
            cleared = next(c for c in set_cookie_headers(done) if c.startswith("__Host-" + FLOW_COOKIE + "="))
            assert re.search(r"(?i); path=/(;|$)", cleared) and re.search(r"(?i); secure", cleared), cleared


def test_a_client_cannot_pick_its_address_with_x_forwarded_for() -> None:
    # Three begins per IP an hour. An attacker rotating X-Forwarded-For is still one address.
    policy = sspr.Policy(min_response_ms=0, ip_begins_per_hour=3)
    direct = Site(policy)
    with Server(direct.app) as server, httpx.Client(base_url=server.url) as client:
        codes = [
            api(client, "begin", {"login": JANE}, **{"x-forwarded-for": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
        assert codes == [200, 200, 200, 429, 429], codes
    # Behind a trusted proxy (here: the test itself, on 127.0.0.1) the proxy's header is believed, and only
    # its last hop: what the client prepended is not.
    proxied = Site(policy, trusted_proxies=["127.0.0.1/32"])
    with Server(proxied.app) as server, httpx.Client(base_url=server.url) as client:
        for i in range(3):
            assert api(client, "begin", {"login": JANE}, **{"x-forwarded-for": "203.0.113.9"}).status_code == 200
        spoofed = api(client, "begin", {"login": JANE}, **{"x-forwarded-for": f"10.9.9.{i}, 203.0.113.9"})
        assert spoofed.status_code == 429
        limited = spoofed.json()
        assert limited["error"] == "rate_limited" and limited["retry_after_seconds"] >= 1
        assert int(spoofed.headers["retry-after"]) == limited["retry_after_seconds"]
        other = api(client, "begin", {"login": JANE}, **{"x-forwarded-for": "203.0.113.10"})
        assert other.status_code == 200


def test_a_trusted_proxy_reaching_a_dual_stack_socket_is_still_trusted() -> None:
    """A server listening on ``::`` with IPv4 mapped in (gunicorn's ``[::]:8000``, Django's ``runserver -6``) sees
    its IPv4 proxy as ``::ffff:127.0.0.1``. That is the same proxy as ``127.0.0.1/32``: were it not believed, every
    visitor would count as the proxy, and one of them could spend the per-IP limits of all."""
    policy = sspr.Policy(min_response_ms=0, ip_begins_per_hour=3)
    proxied = Site(policy, trusted_proxies=["127.0.0.1/32"])
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", 0))
    with Server(proxied.app, sock) as server, httpx.Client(base_url=server.url) as client:
        for _ in range(3):
            assert api(client, "begin", {"login": JANE}, **{"x-forwarded-for": "203.0.113.9"}).status_code == 200
        assert api(client, "begin", {"login": JANE}, **{"x-forwarded-for": "203.0.113.9"}).status_code == 429
        # Another visitor behind the same proxy has limits of its own.
        assert api(client, "begin", {"login": JANE}, **{"x-forwarded-for": "203.0.113.10"}).status_code == 200
    # The rule itself: a mapped address is its IPv4 address, as a proxy and as a hop it wrote.
    from sspr.contrib._web import client_ip, networks

    trusted = networks(["10.0.0.0/8"])
    assert client_ip("::ffff:10.1.2.3", ["::ffff:198.51.100.7"], trusted) == "198.51.100.7"
    assert client_ip("::ffff:10.1.2.3", ["198.51.100.7, ::ffff:10.0.0.9"], trusted) == "198.51.100.7"
    assert client_ip("::ffff:198.51.100.7", ["203.0.113.1"], trusted) == "198.51.100.7"


def test_a_hop_a_proxy_wrote_with_a_port_is_the_client_and_nonsense_is_never_read_past() -> None:
    from sspr.contrib._web import client_ip, networks

    trusted = networks(["10.0.0.0/8"])
    # Azure Application Gateway and IIS ARR append `address:port`: before, that hop was nonsense and every
    # visitor counted as the proxy, sharing its per-IP limits.
    assert client_ip("10.0.0.5", ["198.51.100.77, 203.0.113.7:51234"], trusted) == "203.0.113.7"
    assert client_ip("10.0.0.5", ["198.51.100.77, [2001:db8::7]:51234"], trusted) == "2001:db8::7"
    assert client_ip("10.0.0.5", ["198.51.100.77, [2001:db8::7]"], trusted) == "2001:db8::7"
    assert client_ip("10.0.0.5", ["198.51.100.77, 2001:db8::7"], trusted) == "2001:db8::7"
    # Nonsense stops the reading: what the client wrote to its left is never read.
    for nonsense in ["unknown", "", "203.0.113.7:port", "[2001:db8::7]x", "1.2.3:80"]:
        assert client_ip("10.0.0.5", [f"198.51.100.77, {nonsense}"], trusted) == "10.0.0.5", nonsense


def test_a_bad_trusted_proxy_is_a_config_error() -> None:
    with pytest.raises(sspr.ConfigError):
        reset_router(Site().engine, trusted_proxies=["not-a-network"])


@pytest.mark.parametrize(
    "option",
    [
        {"allowed_origins": "https://app.example.org"},  # was its characters: the front end it names refused
        {"trusted_proxies": "10.0.0.0/8"},  # was a confusing "'1' does not appear to be a network"
        {"allowed_origins": [b"https://app.example.org"]},
        {"pages": "no"},  # was truthy: pages served
        {"secure_cookies": "no"},  # was truthy: Secure on plain http, so no flow cookie came back
        {"layout": "<html>"},
    ],
)
def test_an_option_of_the_wrong_type_is_a_config_error_naming_it(option: Dict[str, Any]) -> None:
    """As the Express router: an option of the wrong type is refused by name when the router is made, never
    served differently from what the host meant."""
    with pytest.raises(sspr.ConfigError, match=f"reset_router: {next(iter(option))}"):
        reset_router(Site().engine, **option)
    # The same options given right are taken.
    reset_router(Site().engine, allowed_origins=["https://app.example.org"], trusted_proxies=("10.0.0.0/8",))


def test_readme_snippet() -> None:
    """The README's FastAPI lines, run exactly as written, then a reset through them."""
    text = README.read_text()
    snippet = re.search(r"<!-- fastapi-router -->\s*```python\n(.*?)```", text, re.S)
    assert snippet is not None, "the README's FastAPI snippet is marked <!-- fastapi-router -->"
    lines = [line for line in snippet.group(1).splitlines() if line.strip()]
    assert len(lines) <= 10, lines
    namespace: Dict[str, Any] = {}
    exec(compile(snippet.group(1), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    app, outbox = namespace["app"], namespace["outbox"]
    with Server(app) as server, httpx.Client(base_url=server.url) as client:
        begun = api(client, "begin", {"login": "jdoe@example.org"})
        assert begun.status_code == 200, begun.text
        assert api(client, "send", {"method": "email"}).status_code == 200
        pin = outbox.last_pin_to("jane@home.example")
        assert pin is not None
        assert api(client, "verify", {"pin": pin.reveal()}).status_code == 200
        assert api(client, "complete", {}).json()["must_change"] is True


def test_a_refused_bot_challenge_reads_as_a_request_to_solve_it() -> None:
    from sspr.contrib._web import describe

    def challenge(reason: str) -> sspr.SsprError:
        # The engine's error, made as sspr makes it (sspr-core gives it its answer).
        with pytest.raises(sspr.ChallengeError) as caught:
            primitives.raise_error(json.dumps({"variant": "Challenge", "reason": reason}))
        return caught.value

    required = describe(challenge("required"))
    assert (required.status, required.code, required.extra) == (403, "challenge_required", {"reason": "required"})
    assert "not a robot" in required.message
    failed = describe(challenge("failed"))
    assert (failed.status, failed.code) == (403, "challenge_failed")
    down = describe(challenge("unavailable"))
    assert (down.status, down.code) == (503, "challenge_unavailable") and "cannot be verified right now" in down.message


# -- the bot challenge, against conftest's siteverify stand-in ------------------------------------------------

PROVIDERS = {
    # provider: (its widget's script, the form field its token arrives in, the CSP directives it needs and sources)
    "turnstile": ("https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile-response",
                  {"script-src": "https://challenges.cloudflare.com", "frame-src": "https://challenges.cloudflare.com"}),
    "hcaptcha": ("https://js.hcaptcha.com/1/api.js", "h-captcha-response",
                 {d: "https://hcaptcha.com https://*.hcaptcha.com"
                  for d in ("script-src", "frame-src", "style-src", "connect-src")}),
    "recaptcha": ("https://www.google.com/recaptcha/api.js", "g-recaptcha-response",
                  {"script-src": "https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/",
                   "frame-src": "https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/"}),
}
PLAIN_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def csp_of(response: httpx.Response) -> Dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in response.headers["content-security-policy"].split("; ")}


class ChallengeSite(Site):
    """The router on an engine whose begins need a bot challenge checked by the stand-in."""

    def __init__(self, siteverify: SiteVerify, provider: str = "turnstile", **challenge: Any) -> None:
        b = sspr.backends.from_config({"bot_challenge": siteverify.config(provider, **challenge)})
        self.directory, self.outbox = seed_directory(), sspr.Outbox()
        self.engine = sspr.BlockingSspr(self.directory, self.outbox, secret_key=KEY,
                                        policy=sspr.Policy(min_response_ms=0), bot_challenge=b.bot_challenge)
        self.engine.set_enabled(JANE, True, admin="helpdesk")
        self.engine.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
        self.app = FastAPI()
        self.app.include_router(reset_router(self.engine), prefix="/password")


def start(client: httpx.Client) -> Tuple[httpx.Response, str]:
    page = client.get("/password/")
    token = re.search(r"name='csrf' value='([^']+)'", page.text)
    assert page.status_code == 200 and token is not None
    return page, token.group(1)


def test_without_a_challenge_no_page_has_a_script_or_a_widget(site: Tuple[Site, str]) -> None:
    _, url = site
    with httpx.Client(base_url=url) as client:
        page, csrf = start(client)
        refused = client.post("/password/begin", data={"csrf": csrf, "login": JANE, "cf-turnstile-response": "x"})
        for answer in (page, refused):
            assert answer.headers["content-security-policy"] == PLAIN_CSP
            assert "<script" not in answer.text and "data-sitekey" not in answer.text
        assert refused.status_code == 200  # a token nobody asked for is not read


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_start_page_shows_the_providers_widget_and_its_csp_allows_only_that_provider(
    siteverify: SiteVerify, provider: str
) -> None:
    script, _, sources = PROVIDERS[provider]
    with Server(ChallengeSite(siteverify, provider).app) as server, httpx.Client(base_url=server.url) as client:
        page, _ = start(client)
        assert page.text.count("<script") == 1 and f"<script src='{script}' async defer></script>" in page.text
        assert f"data-sitekey='{CHALLENGE_SITE_KEY}'" in page.text
        policy = csp_of(page)
        # The plain policy, plus exactly the provider's documented sources: no other origin may run a script.
        assert policy == {**csp_of_text(PLAIN_CSP), **sources}
        # Every other page keeps the plain policy.
        other = client.post("/password/send", data={"csrf": "x"})
        assert other.headers["content-security-policy"] == PLAIN_CSP and "<script" not in other.text
        assert CHALLENGE_SECRET not in page.text


def csp_of_text(text: str) -> Dict[str, str]:
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in text.split("; ")}


def test_a_begin_without_or_with_a_forged_token_is_refused_alike_and_a_solved_one_passes(siteverify: SiteVerify) -> None:
    site = ChallengeSite(siteverify, "hcaptcha")
    with Server(site.app) as server, httpx.Client(base_url=server.url) as client:
        _, csrf = start(client)
        answers = []
        for login in (JANE, "nobody@example.org"):
            for token in (None, "forged-token"):
                form = {"csrf": csrf, "login": login, **({"h-captcha-response": token} if token else {})}
                page = client.post("/password/begin", data=form)
                assert page.status_code == 403, page.text
                assert FLOW_COOKIE not in page.headers.get("set-cookie", "")  # nothing began
                assert "h-captcha" in page.text and csp_of(page)["script-src"] == PROVIDERS["hcaptcha"][2]["script-src"]
                answers.append(page.text.replace(login, "LOGIN"))
        assert "not a robot" in answers[0] and answers[0] == answers[2] and answers[1] == answers[3]
        assert "did not succeed" in answers[1]
        # Another provider's field is not read: only the configured one's.
        wrong_field = client.post("/password/begin", data={"csrf": csrf, "login": JANE, "cf-turnstile-response": GOOD_CHALLENGE})
        assert wrong_field.status_code == 403
        assert s_outbox_empty(site)

        page = client.post("/password/begin", data={"csrf": csrf, "login": JANE, "h-captcha-response": GOOD_CHALLENGE})
        assert page.status_code == 200 and "j***@h***.example" in page.text, page.text
        assert page.headers["content-security-policy"] == PLAIN_CSP and "<script" not in page.text
        form = siteverify.forms()[-1]
        assert (form["response"], form["secret"], form["sitekey"], form["remoteip"]) == (
            GOOD_CHALLENGE, CHALLENGE_SECRET, CHALLENGE_SITE_KEY, "127.0.0.1")
        assert client.post("/password/send", data={"csrf": csrf, "method": "email"}).status_code == 200
        assert site.pin()


def s_outbox_empty(site: Site) -> bool:
    return site.outbox.last_pin_to(JANE_MAIL) is None


def test_the_json_api_takes_the_token_as_challenge_token_and_answers_stable_codes(siteverify: SiteVerify) -> None:
    site = ChallengeSite(siteverify, "turnstile")
    with Server(site.app) as server, httpx.Client(base_url=server.url) as client:
        missing = api(client, "begin", {"login": JANE})
        assert missing.status_code == 403
        assert missing.json() == {
            "error": "challenge_required",
            "message": "Please complete the check that you are not a robot, then continue.",
            "reason": "required", "provider": "turnstile", "site_key": CHALLENGE_SITE_KEY,
        }
        forged = api(client, "begin", {"login": "nobody@example.org", "challenge_token": "forged-token"})
        assert (forged.status_code, forged.json()["error"]) == (403, "challenge_failed")
        assert "forged-token" not in forged.text and FLOW_COOKIE not in forged.headers.get("set-cookie", "")
        # The form field's name is the pages'; the API reads only challenge_token.
        assert api(client, "begin", {"login": JANE, "cf-turnstile-response": GOOD_CHALLENGE}).status_code == 403
        bad = api(client, "begin", {"login": JANE, "challenge_token": ["not", "text"]})
        assert (bad.status_code, bad.json()["field"]) == (400, "challenge_token")
        spaced = api(client, "begin", {"login": JANE, "challenge_token": "a b"})
        assert (spaced.status_code, spaced.json()["field"]) == (400, "challenge_token")

        begun = api(client, "begin", {"login": JANE, "challenge_token": GOOD_CHALLENGE})
        assert begun.status_code == 200, begun.text
        assert api(client, "send", {"method": "email"}).status_code == 200 and site.pin()

        siteverify.down = True
        down = api(client, "begin", {"login": JANE, "challenge_token": GOOD_CHALLENGE})
        assert (down.status_code, down.json()["error"]) == (503, "challenge_unavailable")
        assert "provider" not in down.json()


def test_a_provider_that_is_down_fails_closed_on_the_pages(siteverify: SiteVerify) -> None:
    siteverify.down = True
    site = ChallengeSite(siteverify, "recaptcha")
    with Server(site.app) as server, httpx.Client(base_url=server.url) as client:
        _, csrf = start(client)
        page = client.post("/password/begin", data={"csrf": csrf, "login": JANE, "g-recaptcha-response": GOOD_CHALLENGE})
        assert page.status_code == 503 and "cannot be verified right now" in page.text
        assert FLOW_COOKIE not in page.headers.get("set-cookie", "") and s_outbox_empty(site)


def test_after_n_begins_the_widget_appears_once_a_begin_is_refused_for_it(siteverify: SiteVerify) -> None:
    site = ChallengeSite(siteverify, "turnstile", policy="after_begins", begins_per_ip=2, window_minutes=10)
    with Server(site.app) as server, httpx.Client(base_url=server.url) as client:
        page, csrf = start(client)
        assert "<script" not in page.text and page.headers["content-security-policy"] == PLAIN_CSP
        for _ in range(2):
            assert client.post("/password/begin", data={"csrf": csrf, "login": JANE}).status_code == 200
        asked = client.post("/password/begin", data={"csrf": csrf, "login": JANE})
        assert asked.status_code == 403 and "cf-turnstile" in asked.text and f"value='{JANE}'" in asked.text
        assert csp_of(asked)["script-src"] == "https://challenges.cloudflare.com"
        solved = client.post("/password/begin", data={"csrf": csrf, "login": JANE, "cf-turnstile-response": GOOD_CHALLENGE})
        assert solved.status_code == 200 and "j***@h***.example" in solved.text


# -- the pages in the visitor's language -------------------------------------------------------------------

GERMAN = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}


def form_flow(client: httpx.Client, login: str = JANE) -> Tuple[str, httpx.Response]:
    """The start page and the begin form posted: the CSRF token and the methods page."""
    start = client.get("/password/")
    token = re.search(r"name='csrf' value='([^']+)'", start.text)
    assert start.status_code == 200 and token is not None
    return token.group(1), client.post("/password/begin", data={"csrf": token.group(1), "login": login})


def test_a_german_browser_gets_the_whole_reset_in_german(site: Tuple[Site, str]) -> None:
    s, url = site
    with httpx.Client(base_url=url, headers=GERMAN) as client:
        start = client.get("/password/")
        assert "<html lang='de'>" in start.text and start.headers["content-language"] == "de"
        assert "Kennwort zurücksetzen" in start.text and "Benutzername (z. B. jane.doe@example.org)" in start.text
        assert "<button>Weiter</button>" in start.text and "Reset your password" not in start.text
        csrf, page = form_flow(client)
        assert "Wohin sollen wir Ihren Einmal-Code senden?" in page.text
        assert "E-Mail an j***@h***.example" in page.text and "<button>Code senden</button>" in page.text
        page = client.post("/password/send", data={"csrf": csrf, "method": "email"})
        assert "<h1>Code eingeben</h1>" in page.text and "Wir haben einen Code per E-Mail gesendet." in page.text
        assert re.search(r"Gültig bis \d\d:\d\d \(UTC\)\. Noch \d+ Versuche\.", page.text), page.text
        real = s.pin()
        wrong = client.post("/password/verify", data={"csrf": csrf, "pin": "1" * len(real) if real[0] != "1" else "2" * len(real)})
        # A plural in German: more than one attempt is left after the first wrong code.
        found = re.search(r"Der Code ist falsch\. Noch (\d+) Versuche\.", wrong.text)
        assert wrong.status_code == 400 and found is not None and int(found.group(1)) >= 2, wrong.text
        page = client.post("/password/verify", data={"csrf": csrf, "pin": real})
        assert "<h1>Code bestätigt</h1>" in page.text and "Ein temporäres Kennwort erhalten" in page.text
        page = client.post("/password/complete", data={"csrf": csrf, "mode": "temporary"})
        assert "<html lang='de'>" in page.text and "<h1>Ihr temporäres Kennwort</h1>" in page.text
        assert "Notieren Sie es jetzt" in page.text
        shown = re.search(r"<code id='temporary-password'>([^<]+)</code>", page.text)
        assert shown is not None
        assert s.directory.check_password(JANE_DN, shown.group(1).replace("&amp;", "&")) is True
        # The code Jane was sent is in German as well: the notice follows the page's language.
        assert {n.locale for n in s.outbox.messages() if n.to == JANE_MAIL} == {"de"}  # the code and the notice


def test_an_unsupported_or_hostile_language_falls_back_to_english(site: Tuple[Site, str]) -> None:
    _, url = site
    for header in ("pt-BR, pl;q=0.8", "<script>alert(1)</script>", "", "*"):
        with httpx.Client(base_url=url, headers={"accept-language": header}) as client:
            start = client.get("/password/")
            assert start.status_code == 200 and "<html lang='en'>" in start.text, header
            assert "Reset your password" in start.text and "<script" not in start.text


def test_errors_are_in_the_visitors_language_on_the_pages_and_in_the_json_api() -> None:
    policy = sspr.Policy(min_response_ms=0, ip_begins_per_hour=1)
    s = Site(policy)
    with Server(s.app) as server, httpx.Client(base_url=server.url, headers={"accept-language": "fr-CH"}) as client:
        _, first = form_flow(client)
        assert first.status_code == 200 and "E-mail à j***@h***.example" in first.text
        _, limited = form_flow(client)
        assert limited.status_code == 429 and "<html lang='fr'>" in limited.text
        assert re.search(r"Trop de demandes\. Veuillez réessayer dans \d+ minutes?\.", limited.text), limited.text
        answer = api(client, "begin", {"login": JANE})
        assert answer.status_code == 429 and answer.json()["error"] == "rate_limited"
        assert answer.json()["message"].startswith("Trop de demandes.")
        # Refused before the engine (no flow, a bad field): translated too, the stable codes unchanged.
        client.cookies.clear()
        client.cookies.set(CSRF_COOKIE, "x")
        stale = client.post("/password/send", data={"csrf": "x", "method": "email"})
        assert stale.status_code == 410 and "Cette réinitialisation a expiré" in stale.text and "Recommencer" in stale.text
        bad = api(client, "verify", {"pin": 12})
        assert bad.status_code == 400 and bad.json() == {
            "error": "invalid_input", "message": "Veuillez vérifier votre saisie (pin).", "field": "pin",
        }
    german = Site()
    with Server(german.app) as server, httpx.Client(base_url=server.url, headers=GERMAN) as client:
        assert api(client, "begin", {"login": JANE}).status_code == 200
        assert api(client, "send", {"method": "email"}).status_code == 200
        real = german.pin()
        wrong = api(client, "verify", {"pin": "1" * len(real) if real[0] != "1" else "2" * len(real)}).json()
        left = wrong["attempts_left"]
        assert wrong["error"] == "wrong_pin" and wrong["message"] == f"Der Code ist falsch. Noch {left} Versuche."


def test_unknown_and_real_logins_get_identical_pages_in_german() -> None:
    clock = sspr.ManualClock(datetime.datetime(2026, 12, 6, 9, 30, tzinfo=datetime.timezone.utc))
    s = Site(clock=clock)
    pages: List[Tuple[str, str]] = []
    with Server(s.app) as server:
        for login in (JANE, "nobody@example.org", "root@example.org", "gone@example.org"):
            with httpx.Client(base_url=server.url, headers=GERMAN) as client:
                csrf, methods = form_flow(client, login)
                assert methods.status_code == 200 and "<html lang='de'>" in methods.text
                sent = client.post("/password/send", data={"csrf": csrf, "method": "email"})
                assert sent.status_code == 200 and "Wir haben einen Code per E-Mail gesendet." in sent.text
                # Only what differs per login by design (the masked contact, each decoy's own) and the
                # per-visitor CSRF token are taken out; everything else must be the same bytes.
                strip = lambda page: re.sub(r"[a-z]\*\*\*@[a-z]\*\*\*\.[a-z]+", "MASKED", page.replace(csrf, "CSRF"))  # noqa: E731
                pages.append((strip(methods.text), strip(sent.text)))
    assert all(p == pages[0] for p in pages), pages
    assert {n.to for n in s.outbox.messages()} == {JANE_MAIL}


def test_languages_restricts_or_forces_the_language_and_refuses_an_unknown_one() -> None:
    forced = Site(languages=["fr"])
    with Server(forced.app) as server, httpx.Client(base_url=server.url, headers=GERMAN) as client:
        start = client.get("/password/")
        assert "<html lang='fr'>" in start.text and "Réinitialiser votre mot de passe" in start.text
    offered = Site(languages=["de", "nl"])
    with Server(offered.app) as server:
        with httpx.Client(base_url=server.url, headers={"accept-language": "nl-BE, de;q=0.5"}) as client:
            assert "<html lang='nl'>" in client.get("/password/").text
        with httpx.Client(base_url=server.url, headers={"accept-language": "fr"}) as client:
            assert "<html lang='de'>" in client.get("/password/").text  # none offered matches: the first offered
    with pytest.raises(sspr.InvalidInput) as refused:
        reset_router(Site().engine, languages=["de", "pt"])
    assert refused.value.field == "locale"


def test_a_two_argument_layout_still_works_and_a_three_argument_one_is_told_the_language() -> None:
    two = Site(layout=lambda title, body: f"<!doctype html><title>{title}</title>{body}")
    three = Site(layout=lambda title, body, lang: f"<!doctype html><html lang={lang}><title>{title}</title>{body}")
    with Server(two.app) as a, Server(three.app) as b:
        old = httpx.get(f"{a.url}/password/", headers=GERMAN)
        new = httpx.get(f"{b.url}/password/", headers=GERMAN)
    assert old.status_code == 200 and "<title>Kennwort zurücksetzen</title>" in old.text
    assert new.status_code == 200 and "<html lang=de><title>Kennwort zurücksetzen</title>" in new.text
