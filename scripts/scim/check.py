#!/usr/bin/env python3
"""Runs every check of scim2-tester (python-scim's SCIM compliance checker)
against a running SCIM server.

    check.py BASE_URL            # e.g. http://127.0.0.1:9090/scim/v2
    SCIM_TOKEN=…                 # a bearer token with the scope scim

Prints one line per check (status, resource type, check, reason) and exits 1
when any check ends in ERROR or CRITICAL, or is SKIPPED without being named
in --allow-skipped.
"""

import argparse
import os
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--allow-skipped", action="append", default=[],
                        help="a check allowed to be skipped (its function name)")
    args = parser.parse_args()
    http = Client(base_url=args.base_url,
                  headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
                  timeout=30)
    results = check_server(SyncSCIMClient(http))
    failures = 0
    for result in results:
        resource = f"[{result.resource_type}] " if result.resource_type else ""
        print(f"{result.status.name:<9} {resource}{result.title}: {result.reason or ''}")
        failed = result.status in (Status.ERROR, Status.CRITICAL) or (
            result.status == Status.SKIPPED and result.title not in args.allow_skipped)
        if failed:
            failures += 1
            if result.data is not None:
                print(f"          data: {result.data!r}"[:2000])
    print(f"{len(results)} checks, {failures} failed")
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
