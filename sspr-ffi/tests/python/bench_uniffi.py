"""The Python side of the FFI overhead benchmark (scripts/bench-ffi.sh): the flow of
examples/bench_flow.rs through the uniffi bindings, with async Python backends (a directory
and a notifier doing what sspr-core's in-memory ones do) on asyncio."""

import asyncio
import datetime
import sys
import time

import sspr_ffi as s

USER = s.DirectoryUser(id="uid=jdoe,ou=staff,dc=example,dc=org", login="jdoe@example.org",
                       display_name="Jane Doe", dn="uid=jdoe,ou=staff,dc=example,dc=org")


class Directory(s.Directory):
    async def find_user(self, login):
        return USER if login == USER.login else None

    async def set_password(self, user_id, password, must_change):
        pass

    async def unlock(self, user_id):
        pass

    async def authenticate(self, user_id, password):
        return s.Authentication.REJECTED

    async def search(self, query, limit):
        return []

    async def change_password(self, user_id, current, new_password):
        raise s.BackendFailure.NotSupported("no password change in the benchmark")


class Notifier(s.Notifier):
    pin = None

    async def send(self, notification):
        if notification.pin is not None:
            self.pin = notification.pin


async def main(rounds):
    clock = s.ManualClock(datetime.datetime(2026, 1, 1, 10, tzinfo=datetime.timezone.utc))
    notifier = Notifier()
    engine = s.Engine(s.EngineConfig(secret_key=bytes([7] * 32), rng_seed=bytes([1] + [0] * 31)),
                      Directory(), notifier, None, clock)
    ctx = s.RequestContext(locale=s.Locale.EN)
    admin = s.Actor.ADMIN(id="bench")
    await engine.set_enabled(admin, USER.login, True, ctx)
    await engine.update_contacts(admin, USER.login, s.ContactUpdate(
        email=s.ContactChange.SET(value="jane.doe@example.net"), phone=s.ContactChange.KEEP()), ctx)

    async def round_():
        c = await engine.begin_reset(USER.login, ctx)
        await engine.send_pin(c.flow_id, "email", None, ctx)
        await engine.verify_pin(c.flow_id, notifier.pin, ctx)
        await engine.complete_reset(c.flow_id, s.NewPassword.UNLOCK_ONLY(), ctx)
        clock.advance(3601)

    for _ in range(rounds // 10):
        await round_()
    start = time.perf_counter()
    for _ in range(rounds):
        await round_()
    flow = (time.perf_counter() - start) * 1e6 / rounds
    calls = rounds * 10
    start = time.perf_counter()
    for _ in range(calls):
        await engine.status(USER.login)
    status = (time.perf_counter() - start) * 1e6 / calls
    start = time.perf_counter()
    for _ in range(calls):
        engine.completion_modes()
    sync = (time.perf_counter() - start) * 1e6 / calls
    print(f"python: flow {flow:.1f} us, status {status:.2f} us, completion_modes {sync:.3f} us")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
