"""A software passkey authenticator for Limen's tests, built from Yubico's
python-fido2 (its WebAuthn data structures, COSE keys and JSON encodings)
and pyca/cryptography (P-256 keys and ECDSA): what a browser and a platform
authenticator hand a relying party, with nothing of Limen's own code.

    authenticator.py create OPTIONS_JSON ORIGIN [RP_ID]
        answers {"credential": RegistrationResponseJSON, "key": PEM,
        "id": credential id, "user": user handle} for the creation options
        (PublicKeyCredentialCreationOptionsJSON) as Limen sent them.

    authenticator.py get OPTIONS_JSON ORIGIN KEY_PEM CREDENTIAL_ID USER_HANDLE COUNTER [RP_ID]
        answers AuthenticationResponseJSON for the request options, signed
        with the key, with this sign counter.

RP_ID defaults to the options' rp id (creation) or the origin's host (login):
giving another one makes a response for the wrong relying party.
"""

import hashlib
import json
import os
import sys
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import (
    AttestationObject,
    AttestedCredentialData,
    AuthenticationResponse,
    AuthenticatorAssertionResponse,
    AuthenticatorAttestationResponse,
    AuthenticatorData,
    CollectedClientData,
    RegistrationResponse,
)

FLAG = AuthenticatorData.FLAG
# A made-up authenticator model: the AAGUID Limen records.
AAGUID = bytes.fromhex("5ca1ab1e00004e00b00000000000a0e1")


def create(options, origin, rp_id=None):
    rp_id = rp_id or options["rp"]["id"]
    assert options["authenticatorSelection"]["residentKey"] == "required", options
    assert options["authenticatorSelection"]["userVerification"] == "required", options
    challenge = websafe_decode(options["challenge"])
    user = websafe_decode(options["user"]["id"])
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = os.urandom(32)
    attested = AttestedCredentialData.create(AAGUID, credential_id, ES256.from_cryptography_key(key.public_key()))
    data = AuthenticatorData.create(
        hashlib.sha256(rp_id.encode()).digest(), FLAG.UP | FLAG.UV | FLAG.AT, 0, attested
    )
    client = CollectedClientData.create(type="webauthn.create", challenge=challenge, origin=origin)
    response = RegistrationResponse(
        raw_id=credential_id,
        response=AuthenticatorAttestationResponse(
            client_data=client, attestation_object=AttestationObject.create("none", data, {})
        ),
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "credential": dict(response),
        "key": pem,
        "id": websafe_encode(credential_id),
        "user": websafe_encode(user),
    }


def get(options, origin, pem, credential_id, user, counter, rp_id=None):
    rp_id = rp_id or urlsplit(origin).hostname
    assert options["userVerification"] == "required", options
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    data = AuthenticatorData.create(hashlib.sha256(rp_id.encode()).digest(), FLAG.UP | FLAG.UV, counter)
    client = CollectedClientData.create(
        type="webauthn.get", challenge=websafe_decode(options["challenge"]), origin=origin
    )
    signature = key.sign(bytes(data) + client.hash, ec.ECDSA(hashes.SHA256()))
    response = AuthenticationResponse(
        raw_id=websafe_decode(credential_id),
        response=AuthenticatorAssertionResponse(
            client_data=client,
            authenticator_data=data,
            signature=signature,
            user_handle=websafe_decode(user),
        ),
    )
    return dict(response)


def main():
    command, options, origin, *rest = sys.argv[1:]
    options = json.loads(options)
    if command == "create":
        answer = create(options, origin, *rest)
    elif command == "get":
        pem, credential_id, user, counter, *rp_id = rest
        answer = get(options, origin, pem, credential_id, user, int(counter), *rp_id)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
