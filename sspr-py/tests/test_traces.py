"""The engine's spans exported over OTLP/HTTP (``sspr.export_traces``) to a local receiver: an in-process HTTP
server on 127.0.0.1 that keeps the protobuf bodies, decoded here with ``opentelemetry-proto``. A whole reset's
spans arrive; with a ``traceparent`` they are the host span's children; nothing of the user's is in the bytes;
a bad ``traceparent`` never fails a reset; the FastAPI router takes the parent from the host's OpenTelemetry
context, never from the client's header.

The exporter is the process's (a tracing subscriber is global): installed once for this module, shut down at
its end; the other modules' engines are traced meanwhile only while it runs (it is this module's only)."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from fastapi import FastAPI, Request
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

import sspr
from conftest import JANE, JANE_MAIL, KEY, seed_directory
from sspr.contrib._web import current_traceparent
from sspr.contrib.fastapi import reset_router
from test_contrib_fastapi import Server

STEPS = ("begin_reset", "send_pin", "verify_pin", "complete_reset")


class Receiver:
    """An OTLP/HTTP traces endpoint on a free loopback port, in a thread: keeps each request's body."""

    def __init__(self) -> None:
        self.bodies: List[bytes] = []
        self.content_types: List[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.bodies.append(body)
                    receiver.content_types.append(self.headers.get("content-type", ""))
                ok = self.path == "/v1/traces"
                self.send_response(200 if ok else 404)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def take(self) -> Tuple[bytes, List[Span], List[ExportTraceServiceRequest]]:
        """Everything received since the last take: the raw bytes, every span, the requests."""
        with self.lock:
            bodies, self.bodies = self.bodies, []
        requests = []
        for body in bodies:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            requests.append(request)
        spans = [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
        return b"".join(bodies), spans, requests


@pytest.fixture(scope="module")
def exported() -> Iterator[Tuple[Receiver, sspr.TraceExport]]:
    receiver = Receiver()
    export = sspr.export_traces(receiver.url, service_name="sspr-tests")
    yield receiver, export
    export.shutdown()
    receiver.server.shutdown()


def attribute(span: Span, key: str) -> Optional[str]:
    for kv in span.attributes:
        if kv.key == key:
            return str(kv.value.string_value)
    return None


def engine() -> Tuple[sspr.BlockingSspr, sspr.Outbox]:
    outbox = sspr.Outbox()
    s = sspr.BlockingSspr(seed_directory(), outbox, secret_key=KEY, policy=sspr.Policy(min_response_ms=0))
    s.set_enabled(JANE, True, admin="helpdesk")
    s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    return s, outbox


def reset(s: sspr.BlockingSspr, outbox: sspr.Outbox, *contexts: Optional[sspr.RequestContext]) -> Tuple[str, str]:
    """A whole reset, the i-th call with ``contexts[i]``; returns the PIN and the temporary password."""
    ctx = list(contexts) + [None] * (4 - len(contexts))
    challenge = s.begin_reset(JANE, ctx[0])
    s.send_pin(challenge.flow_id, "email", None, ctx[1])
    s.flush_deliveries()
    pin = outbox.last_pin_to(JANE_MAIL)
    assert pin is not None
    assert "temporary" in s.verify_pin(challenge.flow_id, pin.reveal(), ctx[2]).modes
    outcome = s.complete_reset(challenge.flow_id, "temporary", None, ctx[3])
    assert outcome.temporary_password is not None
    s.flush_deliveries()
    return pin.reveal(), outcome.temporary_password.reveal()


def new_parent(sampled: bool = True) -> Tuple[str, bytes, bytes]:
    trace_id, span_id = secrets.token_bytes(16), secrets.token_bytes(8)
    return f"00-{trace_id.hex()}-{span_id.hex()}-{'01' if sampled else '00'}", trace_id, span_id


def named(spans: List[Span], name: str) -> List[Span]:
    return [s for s in spans if s.name == name]


def test_a_whole_reset_s_spans_arrive_and_carry_no_secret(exported: Tuple[Receiver, sspr.TraceExport]) -> None:
    receiver, export = exported
    export.flush()
    receiver.take()
    s, outbox = engine()
    pin, temporary = reset(s, outbox)
    export.flush()
    raw, spans, requests = receiver.take()
    assert set(receiver.content_types) == {"application/x-protobuf"}
    # Nothing of the user's anywhere in the bytes sent.
    for secret in (JANE, "jdoe", JANE_MAIL, "home.example", pin, temporary):
        assert secret.encode() not in raw, secret
    names = sorted(s.name for s in spans)
    flows = set()
    for step in STEPS:
        (call,) = named(spans, f"sspr.{step}")
        assert attribute(call, "sspr.step") == step
        assert attribute(call, "sspr.outcome") == "ok", call
        flows.add(attribute(call, "sspr.flow"))
        # No parent given: each call is the root of a trace of its own.
        assert call.parent_span_id == b"", call
    (flow,) = flows
    assert flow is not None and len(flow) >= 16
    # The PIN's delivery, off the request path: a child of send_pin in its trace.
    (send_pin,) = named(spans, "sspr.send_pin")
    deliveries = [d for d in named(spans, "sspr.delivery") if d.parent_span_id == send_pin.span_id]
    assert len(deliveries) == 1 and deliveries[0].trace_id == send_pin.trace_id, names
    # The default: no span per backend call (BENCHMARKS.md section 11).
    assert all(n.startswith("sspr.") and attribute(sp, "sspr.backend") is None for sp, n in zip(spans, names)), names
    services = {
        kv.value.string_value
        for r in requests
        for rs in r.resource_spans
        for kv in rs.resource.attributes
        if kv.key == "service.name"
    }
    assert services == {"sspr-tests"}


def test_with_a_traceparent_the_engine_s_spans_are_the_host_span_s_children(
    exported: Tuple[Receiver, sspr.TraceExport],
) -> None:
    receiver, export = exported
    s, outbox = engine()
    parents = [new_parent() for _ in STEPS]
    contexts = [sspr.RequestContext(client_ip="192.0.2.1", traceparent=p[0]) for p in parents]
    assert [c.traceparent for c in contexts] == [p[0] for p in parents]
    pin, temporary = reset(s, outbox, *contexts)
    # The asyncio twin too.
    async_parent = new_parent()
    ctx = sspr.RequestContext(traceparent=async_parent[0])
    asyncio.run(s.asyncio().begin_reset("nobody@example.org", ctx))
    export.flush()
    raw, spans, _ = receiver.take()
    for step, (_, trace_id, span_id) in zip(STEPS, parents):
        (call,) = [c for c in named(spans, f"sspr.{step}") if c.trace_id == trace_id]
        assert call.parent_span_id == span_id, (step, call)
    # The delivery send_pin handed off stays in the host's trace.
    (send_pin,) = [c for c in named(spans, "sspr.send_pin") if c.trace_id == parents[1][1]]
    assert any(d.parent_span_id == send_pin.span_id and d.trace_id == parents[1][1] for d in named(spans, "sspr.delivery"))
    (begin,) = [c for c in named(spans, "sspr.begin_reset") if c.trace_id == async_parent[1]]
    assert begin.parent_span_id == async_parent[2]
    for secret in (JANE, "jdoe", JANE_MAIL, "192.0.2.1", pin, temporary):
        assert secret.encode() not in raw, secret


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "",
        "ff-{t}-{s}-01",
        "00-{T}-{S}-01",
        " 00-{t}-{s}-01",
        "00-{t}-{s}-01-extra",
        "00-00000000000000000000000000000000-{s}-01",
        "00-{t}-0000000000000000-01",
        "00-{t}-{s}-zz",
    ],
)
def test_a_bad_traceparent_is_ignored_and_the_reset_completes(
    exported: Tuple[Receiver, sspr.TraceExport], bad: str
) -> None:
    receiver, export = exported
    _, trace_id, span_id = new_parent()
    value = bad.format(t=trace_id.hex(), s=span_id.hex(), T=trace_id.hex().upper(), S=span_id.hex().upper())
    ctx = sspr.RequestContext(traceparent=value)
    assert ctx.traceparent is None
    s, outbox = engine()
    reset(s, outbox, ctx, ctx, ctx, ctx)
    export.flush()
    _, spans, _ = receiver.take()
    for step in STEPS:
        (call,) = named(spans, f"sspr.{step}")
        assert call.trace_id != trace_id and call.parent_span_id == b"", call


def test_an_unsampled_parent_s_calls_are_not_exported(exported: Tuple[Receiver, sspr.TraceExport]) -> None:
    receiver, export = exported
    traceparent, trace_id, _ = new_parent(sampled=False)
    s, outbox = engine()
    ctx = sspr.RequestContext(traceparent=traceparent)
    reset(s, outbox, ctx, ctx, ctx, ctx)
    export.flush()
    _, spans, _ = receiver.take()
    assert not [sp for sp in spans if sp.trace_id == trace_id]


def test_a_second_export_is_refused(exported: Tuple[Receiver, sspr.TraceExport]) -> None:
    receiver, _ = exported
    with pytest.raises(sspr.ConfigError, match="once per process"):
        sspr.export_traces(receiver.url)


def test_a_refused_setting_is_named_as_this_function_s_parameter() -> None:
    # The check is the portal's (sspr-backends' otlp), which named its config keys
    # (`otlp_endpoint`, `otlp_sample_ratio`): a Python caller has no such keys. In a child
    # process: this one has its exporter installed, and a second call is refused before the
    # settings are read.
    script = (
        "import sspr\n"
        "for kwargs in ({'endpoint': 'collector:4318'}, {'endpoint': 'http://c/v1/traces', 'sample_ratio': 2.0},"
        " {'endpoint': 'http://c/v1/traces', 'service_name': ' '}):\n"
        "    try:\n"
        "        sspr.export_traces(**kwargs)\n"
        "    except sspr.ConfigError as e:\n"
        "        print(str(e).removeprefix('configuration error: '))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    lines = run.stdout.splitlines()
    assert len(lines) == 3, run.stdout + run.stderr
    assert lines[0].startswith("endpoint = ") and "is not an http(s):// URL" in lines[0], lines[0]
    assert lines[1].startswith("sample_ratio = 2"), lines[1]
    assert lines[2].startswith("service_name "), lines[2]
    assert "otlp" not in run.stdout, run.stdout


def test_the_exporter_s_repr_is_python_s_and_shows_its_settings(exported: Tuple[Receiver, sspr.TraceExport]) -> None:
    _, export = exported
    assert repr(export) == "TraceExport(sample_ratio=None, backend_spans=False, service_name='sspr-tests')"


def test_current_traceparent_is_the_host_s_span_or_none() -> None:
    assert current_traceparent() is None
    traceparent, trace_id, span_id = new_parent()
    span = otel_trace.NonRecordingSpan(
        otel_trace.SpanContext(
            int.from_bytes(trace_id, "big"), int.from_bytes(span_id, "big"), False, otel_trace.TraceFlags(1)
        )
    )
    token = otel_context.attach(otel_trace.set_span_in_context(span))
    try:
        assert current_traceparent() == traceparent
    finally:
        otel_context.detach(token)
    assert current_traceparent() is None


class TracedSite:
    """The FastAPI router on an app whose middleware stands for the host's OpenTelemetry instrumentation: each
    request runs in a server span of the host's (trace id ``self.trace_id``; its span id is recorded)."""

    def __init__(self) -> None:
        self.engine, self.outbox = engine()
        self.trace_id = secrets.token_bytes(16)
        self.span_ids: List[bytes] = []
        self.app = FastAPI()

        @self.app.middleware("http")
        async def host_span(request: Request, call_next: Any) -> Any:
            if request.headers.get("x-test-host-span") != "on":
                return await call_next(request)
            span_id = secrets.token_bytes(8)
            self.span_ids.append(span_id)
            parent = otel_trace.SpanContext(
                int.from_bytes(self.trace_id, "big"), int.from_bytes(span_id, "big"), False, otel_trace.TraceFlags(1)
            )
            token = otel_context.attach(otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(parent)))
            try:
                return await call_next(request)
            finally:
                otel_context.detach(token)

        self.app.include_router(reset_router(self.engine), prefix="/password")


def api_flow(site: TracedSite, url: str, headers: Dict[str, str]) -> None:
    with httpx.Client(base_url=url, headers={"origin": url, **headers}) as client:
        begin = client.post("/password/api/begin", json={"login": JANE})
        assert begin.status_code == 200, begin.text
        sent = client.post("/password/api/send", json={"method": "email"})
        assert sent.status_code == 200, sent.text


def test_the_fastapi_router_passes_the_host_s_span_not_the_client_s_header(
    exported: Tuple[Receiver, sspr.TraceExport],
) -> None:
    receiver, export = exported
    site = TracedSite()
    with Server(site.app) as server:
        # A client's own traceparent header, with no host span: not believed (it would pick the trace and force
        # sampling); the calls are roots of their own traces.
        forged, forged_trace, _ = new_parent()
        api_flow(site, server.url, {"traceparent": forged})
        export.flush()
        _, spans, _ = receiver.take()
        calls = named(spans, "sspr.begin_reset") + named(spans, "sspr.send_pin")
        assert len(calls) == 2, [s.name for s in spans]
        assert all(c.trace_id != forged_trace and c.parent_span_id == b"" for c in calls), calls
        # The host's span: each engine call is its child.
        api_flow(site, server.url, {"x-test-host-span": "on"})
        export.flush()
        _, spans, _ = receiver.take()
        calls = named(spans, "sspr.begin_reset") + named(spans, "sspr.send_pin")
        assert len(calls) == 2 and len(site.span_ids) == 2, [s.name for s in spans]
        assert [c.trace_id for c in calls] == [site.trace_id] * 2
        assert [c.parent_span_id for c in calls] == site.span_ids


def test_the_django_views_pass_the_host_s_span_not_the_client_s_header(
    exported: Tuple[Receiver, sspr.TraceExport],
) -> None:
    import test_contrib_django as dj  # configures Django for this process (as its own module does)

    receiver, export = exported
    dj.seed_site()
    try:
        export.flush()
        receiver.take()

        def begin(**headers: str) -> None:
            client = dj.browser()
            token = dj.csrf(client, "/password/")
            page = client.post("/password/", {"csrfmiddlewaretoken": token, "login": dj.JANE}, **headers)
            assert page.status_code == 200, page.content

        # A client's own header, no host span: not believed.
        forged, forged_trace, _ = new_parent()
        begin(HTTP_TRACEPARENT=forged)
        export.flush()
        _, spans, _ = receiver.take()
        (call,) = named(spans, "sspr.begin_reset")
        assert call.trace_id != forged_trace and call.parent_span_id == b"", call
        # The host's span (Django's test client runs the view on this thread, in this context).
        _, trace_id, span_id = new_parent()
        parent = otel_trace.SpanContext(
            int.from_bytes(trace_id, "big"), int.from_bytes(span_id, "big"), False, otel_trace.TraceFlags(1)
        )
        token = otel_context.attach(otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(parent)))
        try:
            begin()
        finally:
            otel_context.detach(token)
        export.flush()
        _, spans, _ = receiver.take()
        (call,) = named(spans, "sspr.begin_reset")
        assert (call.trace_id, call.parent_span_id) == (trace_id, span_id), call
    finally:
        dj.site.reset()
