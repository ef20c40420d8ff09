#!/usr/bin/env python3
"""A real SMTP server for Limen's tests: aiosmtpd, writing every message it
accepts into a folder, as it arrived (NAME.eml) and as a mail client shows it
(NAME.txt: To, From and Subject decoded, a blank line, the decoded body), so
that tests read the text through an implementation of MIME other than the one
that wrote it. With --user and --password it requires AUTH (PLAIN or LOGIN)
with those credentials; with --tls starttls or implicit, and --cert and --key,
it speaks TLS (STARTTLS required before MAIL, or TLS from the first byte).
Prints "ready" once it listens; runs until killed."""

import argparse
import email
import email.policy
import pathlib
import ssl
import time
import uuid
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        stem = self.folder / f"{time.time_ns()}-{uuid.uuid4().hex}"
        message = email.message_from_bytes(raw, policy=email.policy.default)
        shown = "".join(f"{name}: {message[name]}\n" for name in ("To", "From", "Subject"))
        shown += "\n" + message.get_content().replace("\r\n", "\n")
        # The decoded text first, so a reader who sees the .eml sees both;
        # each written aside and renamed, so a reader never sees half a file.
        partial = stem.with_suffix(".partial")
        partial.write_text(shown, encoding="utf-8")
        partial.replace(stem.with_suffix(".txt"))
        partial.write_bytes(raw)
        partial.replace(stem.with_suffix(".eml"))
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert", help="PEM certificate for --tls")
    parser.add_argument("--key", help="PEM private key for --tls")
    args = parser.parse_args()
    folder = pathlib.Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        # handled=False: aiosmtpd then answers 535 itself.
        return AuthResult(success=ok, handled=False)


    # Plain-text AUTH is what the tests exercise; the warning about it is noise.
    warnings.simplefilter("ignore")
    options = {}
    if args.user:
        # aiosmtpd counts only STARTTLS as TLS for AUTH; an implicit-TLS connection
        # is encrypted from the first byte, so it need not ask.
        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=args.tls == "starttls")
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == "starttls":
            # STARTTLS is offered and required before any mail is taken.
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(ssl_context=context)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
