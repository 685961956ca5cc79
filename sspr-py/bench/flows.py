"""Benchmark of the Python package, ratios measured side by side in one process.

    python sspr-py/bench/flows.py [--flows N] [--rounds R]

1. Whole reset flows per second through ``BlockingSspr`` on the built-in in-memory backends
   (begin_reset, send_pin, read the PIN from the outbox, verify_pin, complete_reset with a
   temporary password), against Django's ``PasswordResetTokenGenerator`` doing
   ``make_token`` + ``check_token`` (a token pair only: a fraction of the work).
2. The same flows with backends written in Python (plain ``def``): directory, contact store
   and notifier.
3. The same flows run from Rust in one call (``_sspr.primitives.rust_reference_flows``): the difference
   per flow is what the binding costs for its five calls.

Settings as in the Rust benchmark (benches/benches/flow.rs): 64 users taking turns, the clock
one second further per flow, per-user and per-destination caps raised to 100 per hour, the
outbox cleared every 256 flows. Each measurement runs ``--rounds`` times, alternating; the
median is reported.
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
from typing import Callable, Dict, List, Optional

import sspr
from sspr import _sspr

USERS = 64
START = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.timezone.utc)
POLICY = sspr.Policy(user_sends_per_hour=100, destination_sends_per_hour=100)
KEY = bytes([7]) * 32


def login(i: int) -> str:
    return f"user{i}@example.org"


def address(i: int) -> str:
    return f"user{i}@home.example"


def memory_engine() -> "tuple[sspr.BlockingSspr, sspr.Outbox, sspr.ManualClock]":
    directory = sspr.MemoryDirectory()
    for i in range(USERS):
        directory.add(login(i), f"User Number{i}", f"uid=user{i},ou=staff,dc=example,dc=org")
    outbox, clock = sspr.Outbox(), sspr.ManualClock(START)
    s = sspr.BlockingSspr(directory, outbox, secret_key=KEY, policy=POLICY, clock=clock)
    for i in range(USERS):
        s.set_enabled(login(i), True, admin="bench")
        s.update_contacts(login(i), email=address(i), admin="bench")
    return s, outbox, clock


def sspr_memory(flows: int) -> float:
    s, outbox, clock = memory_engine()
    t0 = time.perf_counter()
    for n in range(flows):
        i = n % USERS
        c = s.begin_reset(login(i))
        s.send_pin(c.flow_id, "email")
        pin = outbox.last_pin_to(address(i))
        assert pin is not None
        s.verify_pin(c.flow_id, pin)
        s.complete_reset(c.flow_id)
        clock.advance(1)
        if n % 256 == 255:
            outbox.clear()
    return time.perf_counter() - t0


def sspr_asyncio_memory(flows: int) -> float:
    import asyncio

    blocking, outbox, clock = memory_engine()
    s = blocking.asyncio()

    async def run() -> float:
        t0 = time.perf_counter()
        for n in range(flows):
            i = n % USERS
            c = await s.begin_reset(login(i))
            await s.send_pin(c.flow_id, "email")
            pin = outbox.last_pin_to(address(i))
            assert pin is not None
            await s.verify_pin(c.flow_id, pin)
            await s.complete_reset(c.flow_id)
            clock.advance(1)
            if n % 256 == 255:
                outbox.clear()
        return time.perf_counter() - t0

    return asyncio.run(run())


class PyDirectory:
    def __init__(self) -> None:
        self.users: Dict[str, sspr.DirectoryUser] = {}
        self.passwords: Dict[str, str] = {}

    def find_user(self, login: str) -> Optional[sspr.DirectoryUser]:
        return self.users.get(login)

    def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:
        self.passwords[user_id] = password.reveal()

    def unlock(self, user_id: str) -> None:
        pass

    def authenticate(self, user_id: str, password: sspr.Secret) -> str:
        return "accepted" if self.passwords.get(user_id) == password.reveal() else "rejected"

    def search(self, query: str, limit: int) -> List[sspr.DirectoryUser]:
        return [u for u in self.users.values() if query in u.login][:limit]


class PyContacts:
    def __init__(self) -> None:
        self.rows: Dict[str, sspr.Enrollment] = {}

    def get(self, user_id: str) -> Optional[sspr.Enrollment]:
        return self.rows.get(user_id)

    def save(self, user_id: str, enrollment: sspr.Enrollment, expected_version: int) -> bool:
        current = self.rows.get(user_id)
        if (current.version if current is not None else 0) != expected_version:
            return False
        self.rows[user_id] = enrollment.with_version(expected_version + 1)
        return True


class PyNotifier:
    def __init__(self) -> None:
        self.last: Dict[str, sspr.Secret] = {}

    def send(self, notification: sspr.Notification) -> None:
        pin = notification.pin
        if pin is not None:
            self.last[notification.to] = pin


def sspr_python_backends(flows: int) -> float:
    directory, contacts, notifier = PyDirectory(), PyContacts(), PyNotifier()
    for i in range(USERS):
        directory.users[login(i)] = sspr.DirectoryUser(
            f"uid=user{i}", login(i), f"User Number{i}", f"uid=user{i},ou=staff,dc=example,dc=org"
        )
    clock = sspr.ManualClock(START)
    s = sspr.BlockingSspr(directory, notifier, secret_key=KEY, contacts=contacts, policy=POLICY, clock=clock)
    for i in range(USERS):
        s.set_enabled(login(i), True, admin="bench")
        s.update_contacts(login(i), email=address(i), admin="bench")
    t0 = time.perf_counter()
    for n in range(flows):
        i = n % USERS
        c = s.begin_reset(login(i))
        s.send_pin(c.flow_id, "email")
        s.verify_pin(c.flow_id, notifier.last[address(i)])
        s.complete_reset(c.flow_id)
        clock.advance(1)
    return time.perf_counter() - t0


def django_tokens(pairs: int) -> float:
    from django.conf import settings

    if not settings.configured:
        settings.configure(SECRET_KEY="bench-" + "x" * 50, USE_TZ=True)
    from django.contrib.auth.tokens import PasswordResetTokenGenerator

    class User:
        def __init__(self, i: int) -> None:
            self.pk = i
            self.password = f"pbkdf2_sha256$600000$salt{i}$hash{i}"
            self.last_login = None
            self.email = address(i)

        @staticmethod
        def get_email_field_name() -> str:
            return "email"

    generator = PasswordResetTokenGenerator()
    users = [User(i) for i in range(USERS)]
    t0 = time.perf_counter()
    for n in range(pairs):
        user = users[n % USERS]
        token = generator.make_token(user)  # type: ignore[arg-type]
        assert generator.check_token(user, token)  # type: ignore[arg-type]
    return time.perf_counter() - t0


def rust_reference(flows: int) -> float:
    return float(_sspr.primitives.rust_reference_flows(flows, USERS))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    benches: Dict[str, Callable[[int], float]] = {
        "sspr_blocking_memory": sspr_memory,
        "django_token_pair": django_tokens,
        "sspr_asyncio_memory": sspr_asyncio_memory,
        "sspr_blocking_python_backends": sspr_python_backends,
        "rust_reference": rust_reference,
    }
    for bench in benches.values():  # warm-up
        bench(min(1000, args.flows))
    times: Dict[str, List[float]] = {name: [] for name in benches}
    for _ in range(args.rounds):
        for name, bench in benches.items():
            times[name].append(bench(args.flows) / args.flows)
    per = {name: statistics.median(t) for name, t in times.items()}

    rows = [
        ("sspr whole flow, BlockingSspr, in-memory backends", per["sspr_blocking_memory"]),
        ("Django PasswordResetTokenGenerator make_token + check_token", per["django_token_pair"]),
        ("sspr whole flow, Sspr (asyncio, awaited in one task), in-memory backends", per["sspr_asyncio_memory"]),
        ("sspr whole flow, BlockingSspr, Python sync backends", per["sspr_blocking_python_backends"]),
        ("sspr whole flow, driven from Rust (reference)", per["rust_reference"]),
    ]
    ratios = {
        "memory_flow_vs_django_pair": per["django_token_pair"] / per["sspr_blocking_memory"],
        "python_backends_flow_vs_django_pair": per["django_token_pair"] / per["sspr_blocking_python_backends"],
        "binding_overhead_per_flow_us": (per["sspr_blocking_memory"] - per["rust_reference"]) * 1e6,
        "binding_overhead_per_call_us": (per["sspr_blocking_memory"] - per["rust_reference"]) * 1e6 / 5,
        "python_flow_vs_rust_flow": per["sspr_blocking_memory"] / per["rust_reference"],
        "asyncio_overhead_per_call_us": (per["sspr_asyncio_memory"] - per["rust_reference"]) * 1e6 / 5,
    }
    if args.json:
        print(json.dumps({"per_op_us": {k: v * 1e6 for k, v in per.items()}, "ratios": ratios}, indent=2))
        return
    print(f"{args.flows} flows x {args.rounds} rounds (median)\n")
    print("| what | µs per op | ops/s |\n| --- | ---: | ---: |")
    for label, secs in rows:
        print(f"| {label} | {secs * 1e6:.2f} | {1 / secs:,.0f} |")
    print()
    print(f"sspr flows/s ÷ Django token pairs/s (in-memory backends): {ratios['memory_flow_vs_django_pair']:.2f}x (target >= 1)")
    print(f"sspr flows/s ÷ Django token pairs/s (Python sync backends): {ratios['python_backends_flow_vs_django_pair']:.2f}x (target >= 0.5)")
    print(f"binding cost per flow (5 calls): {ratios['binding_overhead_per_flow_us']:.2f} µs, "
          f"{ratios['binding_overhead_per_call_us']:.2f} µs per call; Python flow / Rust flow = {ratios['python_flow_vs_rust_flow']:.2f}x")
    print(f"asyncio binding cost per call: {ratios['asyncio_overhead_per_call_us']:.2f} µs")


if __name__ == "__main__":
    main()
