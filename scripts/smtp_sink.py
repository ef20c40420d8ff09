#!/usr/bin/env python3
"""A real SMTP server for Limen's tests: aiosmtpd, writing every message it
accepts into a folder (one .eml file each). With --user and --password it
requires AUTH (PLAIN or LOGIN) with those credentials, over the plain
connection. Prints "ready" once it listens; runs until killed."""

import argparse
import pathlib
import time
import uuid
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = self.folder / f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        name.write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
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
        options = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
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
