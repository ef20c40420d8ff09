// A real OpenID provider on localhost for Limen's tests: panva's oidc-provider
// (OpenID certified) with its development interactions, so that a test logs in
// with an HTTP client and no browser.
//
// Environment:
//   OIDC_CLIENTS   JSON array of clients: [{"client_id", "client_secret", "redirect_uris": [..]}]
//   OIDC_ACCOUNTS  JSON object of accounts by login, each with claims overriding the
//                  defaults ({"email": "<login>@example.com", "email_verified": true,
//                  "preferred_username": "<login>", "given_name", "family_name"})
//   OIDC_ID_TOKEN_CLAIMS  "1" to put every claim into the ID token instead of only
//                  into userinfo (oidc-provider's conformIdTokenClaims off)
//
// It listens on a free port of 127.0.0.1, uses http://127.0.0.1:<port> as its
// issuer, and prints "listening <issuer>" once it serves.

import http from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS ?? '[]');
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');
const idTokenClaims = process.env.OIDC_ID_TOKEN_CLAIMS === '1';

function claimsOf(login) {
  return {
    sub: login,
    email: login.includes('@') ? login : `${login}@example.com`,
    email_verified: true,
    preferred_username: login,
    given_name: login.charAt(0).toUpperCase() + login.slice(1),
    family_name: 'Tester',
    ...(accounts[login] ?? {}),
  };
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    cookies: { keys: ['limen-test-cookie-key'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'given_name', 'family_name', 'name'],
    },
    conformIdTokenClaims: !idTokenClaims,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return claimsOf(id);
        },
      };
    },
  });
  // Behind no proxy; plain HTTP on loopback is what the tests want.
  provider.proxy = false;
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
