"""Whole reset flows on Redis: sspr's Python binding (``RedisStore``) against the same flow
hand-rolled with redis-py, side by side in one process, and the Redis commands each makes.

    python scripts/bench/redis_py_flows.py REDIS_URL [--flows N] [--rounds R]

sspr: ``BlockingSspr`` with ``RedisStore`` as state store, an in-memory directory of 1000
users, the outbox notifier, a manual clock set to the real time (no padding sleeps), a client IP in every request (so the per-IP
limits are counted), limits raised so the run is never refused. One flow is begin_reset,
send_pin, reading the PIN from the outbox, verify_pin, complete_reset (temporary password).

redis-py, written as a careful developer would (pipelined where the next command does not
depend on an answer), 10 commands in 6 round trips:
  begin:    pipeline [INCR per-IP begins, EXPIRE NX, SET flow record EX 900]
  send:     GET flow; pipeline [INCR per-user sends, EXPIRE NX, SET flow with the PIN's
            HMAC-SHA256 KEEPTTL]
  verify:   GET flow, constant-time compare of the HMACs; SET flow verified KEEPTTL
  complete: GETDEL flow (single use)
It does less than sspr: no per-destination or global counters, no attempt record, no
compare-and-set on verify (two racing verifies both pass), no audit.

The commands per flow are counted with MONITOR over one flow each: "round trips" are the
commands a client sent (a pipeline counts each of its commands; sspr sends one at a time,
so for sspr each is a round trip), "inside scripts" are those Lua scripts ran.
Each measurement runs --rounds times, alternating; the median is reported.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import hmac
import json
import os
import secrets
import statistics
import threading
import time
import uuid
from typing import Callable, List, Tuple

import redis

import sspr
import sspr.backends

USERS = 1000
POLICY = sspr.Policy(
    user_sends_per_hour=100,
    destination_sends_per_hour=100,
    ip_begins_per_hour=100_000,
    ip_sends_per_hour=100_000,
)
KEY = bytes([7]) * 32
CTX = sspr.RequestContext(client_ip="192.0.2.10")


def login(i: int) -> str:
    return f"user{i}@example.org"


def address(i: int) -> str:
    return f"user{i}@home.example"


def sspr_engine(url: str) -> Tuple[sspr.BlockingSspr, sspr.Outbox]:
    directory = sspr.MemoryDirectory()
    for i in range(USERS):
        directory.add(login(i), f"User Number{i}", f"uid=user{i},ou=staff,dc=example,dc=org")
    outbox = sspr.Outbox()
    store = sspr.backends.RedisStore(url, key_prefix=f"bench-{uuid.uuid4().hex}:")
    # A manual clock at the real time: the engine pads its answers to a fixed duration on the
    # clock's timer, which a manual clock skips (as in sspr-py/bench/flows.py); Redis TTLs stay
    # real because the clock reads the real time.
    clock = sspr.ManualClock(datetime.datetime.now(datetime.timezone.utc))
    s = sspr.BlockingSspr(directory, outbox, secret_key=KEY, policy=POLICY, store=store, clock=clock)
    for i in range(USERS):
        s.set_enabled(login(i), True, admin="bench")
        s.update_contacts(login(i), email=address(i), admin="bench")
    return s, outbox


def sspr_flow(s: sspr.BlockingSspr, outbox: sspr.Outbox, i: int) -> None:
    c = s.begin_reset(login(i), CTX)
    s.send_pin(c.flow_id, "email", None, CTX)
    pin = outbox.last_pin_to(address(i))
    assert pin is not None
    s.verify_pin(c.flow_id, pin, CTX)
    s.complete_reset(c.flow_id, ctx=CTX)


class HandRolled:
    """The same flow on redis-py (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.r = redis.Redis.from_url(url)
        self.prefix = f"peer-{uuid.uuid4().hex}:"
        self.key = KEY
        self.sent: dict[str, str] = {}

    def _h(self, data: str) -> str:
        return hmac.new(self.key, data.encode(), hashlib.sha256).hexdigest()

    def begin(self, login: str, ip: str) -> str:
        flow = secrets.token_urlsafe(16)
        p = self.r.pipeline(transaction=False)
        ip_key = self.prefix + "ip-begins:" + self._h(ip)
        p.incr(ip_key)
        p.expire(ip_key, 3600, nx=True)
        p.set(self.prefix + "flow:" + flow, json.dumps({"user": login, "state": "started"}), ex=900)
        count, _, _ = p.execute()
        if count > 100_000:
            raise RuntimeError("rate limited")
        return flow

    def send(self, flow: str, to: str) -> None:
        raw = self.r.get(self.prefix + "flow:" + flow)
        if raw is None:
            raise RuntimeError("expired")
        record = json.loads(raw)
        pin = f"{secrets.randbelow(10**8):08d}"
        record.update(state="pin-sent", pin=self._h(flow + pin))
        p = self.r.pipeline(transaction=False)
        user_key = self.prefix + "sends:" + self._h(record["user"])
        p.incr(user_key)
        p.expire(user_key, 3600, nx=True)
        p.set(self.prefix + "flow:" + flow, json.dumps(record), keepttl=True)
        count, _, _ = p.execute()
        if count > 100:
            raise RuntimeError("rate limited")
        self.sent[to] = pin

    def verify(self, flow: str, pin: str) -> None:
        raw = self.r.get(self.prefix + "flow:" + flow)
        if raw is None:
            raise RuntimeError("expired")
        record = json.loads(raw)
        if record.get("state") != "pin-sent" or not hmac.compare_digest(record["pin"], self._h(flow + pin)):
            raise RuntimeError("wrong pin")
        record["state"] = "verified"
        self.r.set(self.prefix + "flow:" + flow, json.dumps(record), keepttl=True)

    def complete(self, flow: str) -> str:
        raw = self.r.getdel(self.prefix + "flow:" + flow)
        if raw is None or json.loads(raw).get("state") != "verified":
            raise RuntimeError("not verified")
        return secrets.token_urlsafe(12)


def peer_flow(peer: HandRolled, i: int) -> None:
    flow = peer.begin(login(i), "192.0.2.10")
    peer.send(flow, address(i))
    peer.verify(flow, peer.sent[address(i)])
    peer.complete(flow)


def timed(run: Callable[[int], None], flows: int, offset: int) -> float:
    t0 = time.perf_counter()
    for n in range(flows):
        run((offset + n) % USERS)
    return flows / (time.perf_counter() - t0)


def monitor_one(url: str, run: Callable[[], None]) -> Tuple[int, int]:
    """(commands clients sent, commands inside scripts) during `run`, from MONITOR."""
    lines: List[str] = []
    conn = redis.Redis.from_url(url)
    started = threading.Event()

    def watch() -> None:
        with conn.monitor() as m:
            started.set()
            for event in m.listen():
                cmd = event["command"]
                if cmd.startswith("PING bench-stop"):
                    return
                if cmd.startswith(("HELLO", "CLIENT")):
                    continue  # the handshake of the connection that sends the PING above
                lines.append(event.get("client_type", "") + " " + cmd)
                if os.environ.get("BENCH_SHOW_COMMANDS"):
                    print("   ", event.get("client_type", ""), cmd[:80])

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    started.wait()
    time.sleep(0.2)
    run()
    redis.Redis.from_url(url).execute_command("PING", "bench-stop")
    t.join(5)
    inside = sum(1 for line in lines if line.startswith("lua "))
    return len(lines) - inside, inside


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    s, outbox = sspr_engine(args.url)
    peer = HandRolled(args.url)
    # Warm up both (connections, script cache).
    timed(lambda i: sspr_flow(s, outbox, i), 20, 0)
    timed(lambda i: peer_flow(peer, i), 20, 0)
    ours: List[float] = []
    theirs: List[float] = []
    offset = 20
    for _ in range(args.rounds):
        theirs.append(timed(lambda i: peer_flow(peer, i), args.flows, offset))
        ours.append(timed(lambda i: sspr_flow(s, outbox, i), args.flows, offset))
        offset += args.flows
    s_sent, s_inside = monitor_one(args.url, lambda: sspr_flow(s, outbox, offset % USERS))
    p_sent, p_inside = monitor_one(args.url, lambda: peer_flow(peer, (offset + 1) % USERS))
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{'':44} {'flows/s':>9} {'commands sent':>14} {'inside scripts':>15}")
    print(f"{'redis-py hand-rolled (6 round trips)':44} {b:9.0f} {p_sent:14d} {p_inside:15d}")
    print(f"{'sspr BlockingSspr + RedisStore':44} {a:9.0f} {s_sent:14d} {s_inside:15d}")
    print(f"ratio sspr / redis-py: {a / b:.2f}x   (rounds: sspr {[round(x) for x in ours]}, redis-py {[round(x) for x in theirs]})")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
