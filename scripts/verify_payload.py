#!/usr/bin/env python3
"""Verifies the payload Limen hands a consumer after an OpenID login, the way a
consumer written in Python would (PyJWT), and prints its claims as JSON.

    verify_payload.py --issuer LIMEN --audience CONSUMER --secret-file FILE PAYLOAD   (HS256)
    verify_payload.py --issuer LIMEN --audience CONSUMER --jwks-url URL PAYLOAD       (EdDSA)

LIMEN is Limen's public URL (the payload's iss), CONSUMER the consumer URL the
payload was sent to (its aud). Exits 1 when the signature, the algorithm, the
expiry, the issuer or the audience does not hold.
"""

import argparse
import json
import sys

import jwt


def verify(payload, issuer, audience, secret=None, jwks_url=None):
    """The payload's claims; raises jwt.InvalidTokenError when it does not verify."""
    expected = {"issuer": issuer, "audience": audience, "options": {"require": ["exp", "iat", "jti"]}}
    if secret is not None:
        return jwt.decode(payload, secret, algorithms=["HS256"], **expected)
    signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(payload)
    return jwt.decode(payload, signing_key.key, algorithms=["EdDSA"], **expected)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--secret-file", help="a file holding the HS256 secret")
    source.add_argument("--jwks-url", help="Limen's /oidc/payload-key")
    parser.add_argument("--issuer", required=True, help="Limen's public URL")
    parser.add_argument("--audience", required=True, help="this consumer's URL")
    parser.add_argument("payload")
    args = parser.parse_args()
    secret = None
    if args.secret_file:
        with open(args.secret_file, encoding="utf-8") as file:
            secret = file.read().rstrip("\r\n")
    try:
        claims = verify(args.payload, args.issuer, args.audience, secret=secret, jwks_url=args.jwks_url)
    except jwt.InvalidTokenError as err:
        print(f"not verified: {err}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(claims))


if __name__ == "__main__":
    main()
