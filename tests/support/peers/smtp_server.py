#!/usr/bin/python3
"""A real SMTP server for tests: Debian's aiosmtpd on 127.0.0.1, a free port.

    smtp_server.py --out DIR [--cert PEM --key PEM [--implicit-tls]] [--auth USER:PASSWORD]
                   [--script FILE]

With --cert/--key it offers STARTTLS and requires it before MAIL (530 otherwise); with
--implicit-tls as well it speaks TLS from the first byte instead (smtps://); without them it
offers no STARTTLS at all. --auth requires AUTH (over TLS when TLS is on). --script
names a file whose lines are the replies to successive DATA commands ("250", "451 4.3.0 try
later", "550 5.7.1 rejected"); past its end, and without it, every message is accepted.

Each accepted message is written to DIR as NNNN.eml (the raw bytes after SMTP dot-unstuffing)
and NNNN.json (envelope: mail_from, rcpt_tos, tls, login), the .json first, each renamed into
place whole. Prints "listening on 127.0.0.1:PORT" once it accepts connections.
"""
import argparse
import asyncio
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_whole(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Recorder:
    def __init__(self, out, script):
        self.out = out
        self.script = script
        self.data_commands = 0
        self.accepted = 0

    def next_reply(self):
        self.data_commands += 1
        if self.script:
            with open(self.script) as f:
                lines = [line.strip() for line in f if line.strip()]
            if self.data_commands <= len(lines):
                return lines[self.data_commands - 1]
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.next_reply()
        if not reply.startswith("2"):
            return reply
        self.accepted += 1
        base = os.path.join(self.out, "%04d" % self.accepted)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "login": session.auth_data.login.decode("utf-8", "replace")
            if isinstance(session.auth_data, LoginPassword) else None,
        }
        write_whole(base + ".json", json.dumps(meta).encode())
        write_whole(base + ".eml", envelope.original_content)
        return reply


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth")
    parser.add_argument("--script")
    args = parser.parse_args()

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    user, password = (args.auth.split(":", 1) if args.auth else (None, None))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        # handled=False: aiosmtpd answers 535 itself (with True it would answer nothing).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    recorder = Recorder(args.out, args.script)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    starttls = tls is not None and not args.implicit_tls

    def factory():
        return SMTP(recorder, hostname="localhost", tls_context=tls if starttls else None,
                    require_starttls=starttls, auth_required=user is not None,
                    auth_require_tls=starttls,
                    authenticator=authenticator if user is not None else None, loop=loop)

    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=tls if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print("listening on 127.0.0.1:%d" % port, flush=True)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
