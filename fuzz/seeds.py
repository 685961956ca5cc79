#!/usr/bin/env python3
"""Write the fuzz targets' seed corpora from tests/vectors/ (standard library only).

    python3 fuzz/seeds.py [OUT_DIR]      # default: fuzz/corpus

One file per seed under OUT_DIR/<target>/, named by its content's hash, so running it again
adds nothing twice and the inputs libFuzzer added beside them are kept.
"""
import hashlib
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus"


def load(name):
    return json.loads((VECTORS / name).read_text(encoding="ascii"))["cases"]


def write(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table; keys quoted, as JSON strings are valid TOML keys
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


# --- postcard encoding of a flow record (sspr-core/src/flow.rs, RECORD_VERSION 1) ---------
def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(n):
    return varint((n << 1) ^ (n >> 63))


def text(s):
    b = s.encode()
    return varint(len(b)) + b


def flow_record(who, methods, state, *, expires=1_772_442_900, pins_sent=0, last_sent=None, verified=0, required=1):
    out = bytes([1]) + bytes(range(16)) + who + zigzag(expires) + varint(0)
    out += varint(len(methods)) + b"".join(varint(ch) + text(t) for ch, t in methods)
    out += varint(pins_sent) + (b"\x00" if last_sent is None else b"\x01" + zigzag(last_sent))
    return out + bytes([verified, required]) + state


def main():
    logins = [c["input"] for c in load("logins.json")] + [c["login"] for c in load("decoys.json")]
    for login in logins:
        write("login", login)

    for case in load("masks.json"):
        write("email" if case["kind"] == "email" else "phone", case["input"])

    for case in load("pins.json"):
        if case.get("kind") != "generate":
            continue
        for pin in case["pins"][:3]:
            digits = bytes([case["digits"]])
            write("pin", digits + pin.encode())
            write("pin", digits + (pin[:4] + " " + pin[4:]).encode())
            write("pin", digits + ("-".join(pin[i : i + 2] for i in range(0, len(pin), 2))).encode())

    for case in load("policy.json"):
        if "policy_text" in case:
            write("policy_json", case["policy_text"])
            continue
        policy = case["policy"]
        write("policy_json", json.dumps(policy))
        write("policy_toml", "".join(f"{k} = {toml_value(v)}\n" for k, v in policy.items()))

    email = [c["normalized"] for c in load("masks.json") if c["kind"] == "email" and "normalized" in c]
    phone = [c["normalized"] for c in load("masks.json") if c["kind"] == "phone" and "normalized" in c]
    normal = [c["normalized"] for c in load("logins.json") if "normalized" in c]
    now = struct.pack("<q", 1_772_442_300)
    real = varint(0) + text("uid=jdoe,ou=staff,dc=example,dc=org") + text(normal[0])
    decoy = varint(1) + varint(0)
    methods = [(0, email[0]), (1, phone[0])]
    pin_sent = varint(1) + varint(0) + bytes(32) + zigzag(1_772_442_900) + varint(5)
    states = {
        "started": varint(0),
        "pin_sent": pin_sent,
        "verified": varint(2) + zigzag(1_772_442_400),
        "completing": varint(3) + zigzag(1_772_442_520),
        "completed": varint(4) + zigzag(1_772_442_400),
        "voided": varint(5),
    }
    for state in states.values():
        for who in (real, decoy):
            write("flow_record", now + flow_record(who, methods, state, pins_sent=1, last_sent=1_772_442_300))
    write("flow_record", now + flow_record(real, methods, states["started"], verified=1, required=2))

    events = [
        {"version": 2, "at": "2026-03-02T09:00:00Z", "kind": "pin_sent", "flow_ref": None, "user_id": "uid=jdoe",
         "login_fingerprint": None, "channel": "email", "destination": "j***@e***.org", "mode": None,
         "client_ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "actor": None, "outcome": {"result": "success"}},
        {"version": 2, "at": "2026-03-02T09:00:00.5Z", "kind": "reset_requested", "flow_ref": "00" * 16,
         "user_id": None, "login_fingerprint": "ab" * 16, "channel": None, "destination": None, "mode": None,
         "client_ip": "2001:db8::1", "user_agent": None, "actor": {"type": "admin", "id": "helpdesk-1"},
         "outcome": {"result": "decoy", "reason": "unknown_user"}},
    ]
    for event in events:
        write("audit_event", json.dumps(event))


main()
