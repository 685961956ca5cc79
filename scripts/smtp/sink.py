"""The test mail sink: aiosmtpd with STARTTLS on one port and implicit TLS (SMTPS) on another,
both requiring AUTH (PLAIN/LOGIN, after TLS) and delivering into one Maildir that tests read.

usage: sink.py MAILDIR STARTTLS_PORT TLS_PORT CERT KEY USER PASSWORD
Runs until killed; prints "ready" once both ports accept connections.
"""

import asyncio
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main() -> None:
    maildir, starttls_port, tls_port, cert, key, user, password = sys.argv[1:8]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    common = dict(authenticator=authenticator, auth_required=True)
    starttls = Controller(
        Mailbox(maildir),
        hostname="127.0.0.1",
        port=int(starttls_port),
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        **common,
    )
    # Implicit TLS: the socket is TLS from the start, so AUTH needs no STARTTLS first.
    smtps = Controller(
        Mailbox(maildir),
        hostname="127.0.0.1",
        port=int(tls_port),
        server_hostname="localhost",
        ssl_context=context,
        auth_require_tls=False,
        **common,
    )
    starttls.start()
    smtps.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        starttls.stop()
        smtps.stop()


if __name__ == "__main__":
    main()
