// Verifies the payload Limen hands a consumer after an OpenID login, the way
// a consumer written in JavaScript would (jose), and prints its claims as JSON.
//
//   PAYLOAD_KEY=<shared secret> node verify-payload.mjs <limen> <consumer> <payload>     (HS256)
//   JWKS_URL=<limen>/oidc/payload-key node verify-payload.mjs <limen> <consumer> <payload>   (EdDSA)
//
// <limen> is Limen's public URL (the payload's iss), <consumer> the consumer
// URL it was sent to (its aud). Exits 1 when the signature, the algorithm, the
// expiry, the issuer or the audience does not hold.

import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, audience, payload] = process.argv.slice(2);
const secret = process.env.PAYLOAD_KEY;
const key = secret
  ? new TextEncoder().encode(secret)
  : createRemoteJWKSet(new URL(process.env.JWKS_URL));
try {
  const { payload: claims } = await jwtVerify(payload, key, {
    algorithms: [secret ? 'HS256' : 'EdDSA'],
    issuer,
    audience,
    requiredClaims: ['exp', 'iat', 'jti'],
  });
  console.log(JSON.stringify(claims));
} catch (err) {
  console.error(`not verified: ${err.message}`);
  process.exit(1);
}
