"""python-ldap doing what sspr's LdapDirectory.set_password does: one modify of userPassword +
pwdReset as the service account, over StartTLS. Modes:
  persistent  one connection per worker, bound once (the fair comparison)
  per-reset   connect + StartTLS + bind + modify + unbind for every reset (how scripts often do it)
Usage: ldap_resets.py MODE USERS RESETS IN_FLIGHT TAG   (SSPR_TEST_LDAP_* from 10-slapd.sh)"""
import os
import sys
import threading
import time

import ldap

MODE, USERS, RESETS, IN_FLIGHT, TAG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
URL, BASE = os.environ["SSPR_TEST_LDAP_URL"], os.environ["SSPR_TEST_LDAP_BASE"]
BIND_DN, BIND_PW = os.environ["SSPR_TEST_LDAP_BIND_DN"], os.environ["SSPR_TEST_LDAP_BIND_PASSWORD"]
ldap.set_option(ldap.OPT_X_TLS_CACERTFILE, os.environ["SSPR_TEST_CA"])
ldap.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
ldap.set_option(ldap.OPT_X_TLS_NEWCTX, 0)


def connect():
    conn = ldap.initialize(URL)
    conn.protocol_version = 3
    conn.start_tls_s()
    conn.simple_bind_s(BIND_DN, BIND_PW)
    return conn


def reset(conn, w, i):
    dn = f"uid=bench{w % USERS},ou=staff,ou=people,{BASE}"
    password = f"Bench-{TAG}-py{MODE}-{i}-Pw1!".encode()
    conn.modify_s(dn, [(ldap.MOD_REPLACE, "userPassword", [password]), (ldap.MOD_REPLACE, "pwdReset", [b"TRUE"])])


lock = threading.Lock()
counter = [0]


def take():
    with lock:
        i = counter[0]
        counter[0] += 1
        return i


def worker(w, conn):
    # Worker w resets user w only, as in the Rust program.
    while (i := take()) < RESETS:
        if MODE == "persistent":
            reset(conn, w, i)
        else:
            c = connect()
            reset(c, w, i)
            c.unbind_s()


conns = [connect() if MODE == "persistent" else None for _ in range(IN_FLIGHT)]
start = time.perf_counter()
threads = [threading.Thread(target=worker, args=(w, c)) for w, c in enumerate(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
seconds = time.perf_counter() - start
print(f"python-ldap-{MODE} resets={RESETS} in_flight={IN_FLIGHT} seconds={seconds:.3f} per_sec={RESETS / seconds:.1f}")
