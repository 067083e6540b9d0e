#!/usr/bin/python3
"""A real SMTP server for the notification tests (aiosmtpd), on 127.0.0.1 only.

usage: smtp-server.py PORT MAILDIR EVENTS MODE [CERT KEY] [USER PASSWORD]

MODE   plain       no TLS, no login
       plain-auth  no TLS offered, a login required (AUTH offered in clear: a client must refuse it)
       starttls    STARTTLS required, then a login
       tls         TLS from the first byte (SMTPS), then a login

Every login attempt and every accepted message is appended to EVENTS as one JSON line, with whether
the connection was encrypted at that moment; messages go to MAILDIR.
"""
import asyncio
import json
import ssl
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult

port, maildir, events, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rest = sys.argv[5:]
ctx = None
if mode in ("starttls", "tls"):
    cert, key, *rest = rest
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
user, password = (rest + [None, None])[:2]


def record(**facts):
    with open(events, "a", encoding="utf-8") as f:
        f.write(json.dumps(facts) + "\n")


def encrypted(server):
    return server.transport.get_extra_info("ssl_object") is not None


def authenticator(server, session, envelope, mechanism, auth_data):
    login = auth_data.login.decode("utf-8", "replace")
    ok = login == user and auth_data.password.decode("utf-8", "replace") == password
    record(event="auth", mechanism=mechanism, user=login, tls=encrypted(server), ok=ok)
    return AuthResult(success=ok, handled=False, auth_data=login)


class Box(Mailbox):
    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data if session.authenticated else None
        record(event="mail", tls=encrypted(server), user=login, mail_options=envelope.mail_options)
        return await super().handle_DATA(server, session, envelope)


def protocol():
    options = dict(hostname="sw-test-smtp")
    if mode != "plain":
        options.update(auth_required=True, authenticator=authenticator, auth_require_tls=mode == "starttls")
    if mode == "starttls":
        options.update(tls_context=ctx, require_starttls=True)
    return SMTP(Box(maildir), **options)


loop = asyncio.new_event_loop()
loop.run_until_complete(
    loop.create_server(protocol, "127.0.0.1", int(port), ssl=ctx if mode == "tls" else None)
)
loop.run_forever()
