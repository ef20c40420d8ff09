"""A relying party nobody here wrote: Python's authlib logs a user in to an
OpenID Provider the way a web application would, driving the provider's login
page like a browser without JavaScript (a cookie jar, no automatic redirects,
each form's hidden inputs kept).

    authlib_rp.py ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD [TOTP_KEY [STEPS]]

CLIENT_SECRET may be empty (a public client). With TOTP_KEY (base32), the
second-factor form is answered with the code of STEPS periods from now (0 by
default; 1 when the current code was just spent, which the provider refuses
a second time). Prints one JSON line:
the ID token's header and claims (checked: signature against the provider's
JWKS, iss, aud, nonce, RFC 9207's iss in the answer), userinfo, what a second
exchange of the same code got, and the refresh token's life: rotated by a
refresh (the new ID token checked too), the new access token introspected,
the new refresh token revoked (and the access token then introspected again),
the first refresh token presented again; and an access token that is a JWT
(RFC 9068), verified against the JWKS as a resource server would. Exits
non-zero on any failure.
"""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet


def totp(key, steps):
    secret = base64.b32decode(key.upper() + "=" * (-len(key) % 8))
    counter = int(time.time()) // 30 + steps
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10**6)


class Forms(HTMLParser):
    """Every form of a page: its action and its named inputs' values."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action"), {}))
        elif tag == "input" and attrs.get("name") and self.forms:
            self.forms[-1][1][attrs["name"]] = attrs.get("value") or ""


def as_jwt(token, keys, algorithms):
    """The header and claims of a JWT access token verified with `keys`; None for an opaque one."""
    if token.count(".") != 2:
        return None
    decoded = jwt.decode(token, keys, algorithms=algorithms)
    return {"header": decoded.header, "claims": decoded.claims}


def log_in(url, redirect, answers):
    """Follows the provider's pages until it sends the browser to `redirect`."""
    browser = requests.Session()
    answer = browser.get(url, allow_redirects=False)
    for _ in range(8):
        if answer.is_redirect:
            url = urljoin(answer.url, answer.headers["location"])
            if url.startswith(redirect):
                return url
            answer = browser.get(url, allow_redirects=False)
            continue
        parser = Forms()
        parser.feed(answer.text)
        wanted = [form for form in parser.forms if set(form[1]) & set(answers)]
        if not wanted:
            raise SystemExit(f"no login form on {answer.url} ({answer.status_code}): {answer.text[:300]}")
        action, fields = wanted[0]
        for name, value in answers.items():
            if name in fields:
                fields[name] = value() if callable(value) else value
        answer = browser.post(urljoin(answer.url, action or answer.url), data=fields, allow_redirects=False)
    shown = answer.text[answer.text.find("<main>"):][:600]
    raise SystemExit(f"never sent back to the client; last page {answer.url} {answer.status_code}: {shown}")


def main():
    issuer, client_id, secret, redirect, username, password = sys.argv[1:7]
    totp_key = sys.argv[7] if len(sys.argv) > 7 else ""
    steps = int(sys.argv[8]) if len(sys.argv) > 8 else 0
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == issuer, meta
    session = OAuth2Session(
        client_id,
        secret or None,
        scope="openid profile email offline_access",
        redirect_uri=redirect,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
    )
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    answers = {"username": username, "password": password}
    if totp_key:
        answers["code"] = lambda: totp(totp_key, steps)
    callback = log_in(url, redirect, answers)
    query = parse_qs(urlsplit(callback).query)
    assert query.get("iss") == [issuer], query
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=meta["id_token_signing_alg_values_supported"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(id_token.claims)
    userinfo = session.get(meta["userinfo_endpoint"]).json()
    first_refresh = token["refresh_token"]
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
    assert refreshed["refresh_token"] != first_refresh, "rotated"
    again = jwt.decode(refreshed["id_token"], keys, algorithms=meta["id_token_signing_alg_values_supported"])
    assert again.claims["sub"] == id_token.claims["sub"], again.claims
    assert again.claims["auth_time"] == id_token.claims["auth_time"], again.claims
    introspected = session.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    revoked = session.revoke_token(
        meta["revocation_endpoint"], token=refreshed["refresh_token"], token_type_hint="refresh_token"
    ).status_code
    after_revocation = session.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    try:
        session.refresh_token(meta["token_endpoint"], refresh_token=first_refresh)
        reuse = "accepted"
    except OAuthError as err:
        reuse = err.error
    try:
        session.fetch_token(
            meta["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
        )
        replay = "accepted"
    except OAuthError as err:
        replay = err.error
    print(json.dumps({
        "header": id_token.header,
        "claims": id_token.claims,
        "userinfo": userinfo,
        "replay": replay,
        "introspected": introspected,
        "revoked": revoked,
        "after_revocation": after_revocation,
        "reuse": reuse,
        "token_type": token["token_type"],
        "access_token_jwt": as_jwt(
            refreshed["access_token"], keys, meta["id_token_signing_alg_values_supported"]
        ),
    }))


if __name__ == "__main__":
    main()
