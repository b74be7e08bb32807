#!/usr/bin/env python3
"""A real SMTP server for the email tests: aiosmtpd (Debian's python3-aiosmtpd).

Usage: smtp_receiver.py MAILDIR [--starttls CERT KEY] [--implicit-tls CERT KEY]
                                [--auth USER:PASSWORD]
Listens on 127.0.0.1 on a free port and prints it on the first line of stdout. With
--starttls it offers STARTTLS and refuses mail before it; with --implicit-tls the socket is
TLS from the start; with --auth it requires AUTH PLAIN/LOGIN with those credentials (after
TLS). Each accepted message is saved as MAILDIR/<n>.eml (the bytes as received) with
MAILDIR/<n>.json (envelope sender, recipients, whether the session was encrypted).
Stops on SIGTERM.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.maildir, str(n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "tls": server.transport.get_extra_info("ssl_object") is not None}, f)
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("maildir")
    parser.add_argument("--starttls", nargs=2)
    parser.add_argument("--implicit-tls", nargs=2)
    parser.add_argument("--auth")
    args = parser.parse_args()

    kwargs = {}
    server_kwargs = {}
    if args.starttls:
        server_kwargs.update(tls_context=context(*args.starttls), require_starttls=True)
    if args.implicit_tls:
        kwargs["ssl_context"] = context(*args.implicit_tls)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok)

        server_kwargs.update(authenticator=authenticator, auth_require_tls=True)
    port = free_port()
    controller = Controller(Saver(args.maildir), hostname="127.0.0.1", port=port,
                            server_kwargs=server_kwargs, **kwargs)
    controller.start()
    print(port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
