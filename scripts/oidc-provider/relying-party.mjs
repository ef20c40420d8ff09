// A relying party nobody here wrote: panva's openid-client (6.x) logs a user
// in to an OpenID Provider, driving its login page like a browser without
// JavaScript (a cookie jar, redirects followed by hand, each form's hidden
// inputs kept).
//
//   node relying-party.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD [TOTP_KEY [STEPS]]
//
// CLIENT_SECRET may be empty (a public client). Prints one JSON line: the ID
// token's claims (signature checked against the JWKS: enableNonRepudiationChecks;
// iss, aud, nonce, state and RFC 9207's iss checked by the library), userinfo,
// a refresh (rotation), introspection, revocation, the first refresh token
// presented again, single sign-on (the same browser asks again with
// prompt=none and gets a code without a form), RP-initiated logout to
// <redirect URI's origin>/bye, and prompt=none after it.
import * as client from 'openid-client'
import { createHmac } from 'node:crypto'

const [issuer, clientId, secret, redirectUri, username, password, totpKey = '', steps = '0'] = process.argv.slice(2)

const jar = new Map()
const cookies = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
const keep = (response) => {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]
    const at = pair.indexOf('=')
    jar.set(pair.slice(0, at), pair.slice(at + 1))
  }
  return response
}
const go = async (url, init = {}) =>
  keep(await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: cookies() } }))
const unescape = (text) =>
  text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
const attribute = (tag, name) => {
  const found = tag.match(new RegExp(`\\b${name}="([^"]*)"`))
  return found ? unescape(found[1]) : undefined
}

function totp (key, offset) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const bits = [...key.replace(/=+$/, '').toUpperCase()].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('')
  const secretBytes = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset))
  const digest = createHmac('sha1', secretBytes).update(counter).digest()
  return String((digest.readUInt32BE(digest[19] & 15) & 0x7fffffff) % 1e6).padStart(6, '0')
}

async function logIn (url, answers) {
  let response = await go(url)
  for (let step = 0; step < 8; step++) {
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location'), url).href
      if (url.startsWith(redirectUri)) return new URL(url)
      response = await go(url)
      continue
    }
    const page = await response.text()
    const forms = (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).map((form) => ({
      action: attribute(form.match(/<form\b[^>]*>/)[0], 'action'),
      fields: Object.fromEntries((form.match(/<input\b[^>]*>/g) ?? [])
        .map((input) => [attribute(input, 'name'), attribute(input, 'value') ?? ''])
        .filter(([name]) => name))
    }))
    const form = forms.find((candidate) => Object.keys(answers).some((name) => name in candidate.fields))
    if (!form) throw new Error(`no login form on ${url} (${response.status}): ${page.slice(0, 300)}`)
    for (const [name, value] of Object.entries(answers)) {
      if (name in form.fields) form.fields[name] = typeof value === 'function' ? value() : value
    }
    url = new URL(form.action ?? url, url).href
    response = await go(url, {
      method: 'POST',
      body: new URLSearchParams(form.fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
  }
  throw new Error(`never sent back to the client; last ${url} ${response.status}`)
}

const authentication = secret ? client.ClientSecretBasic(secret) : client.None()
const config = await client.discovery(new URL(issuer), clientId, {}, authentication, {
  execute: [client.allowInsecureRequests]
})
client.enableNonRepudiationChecks(config)
const codeVerifier = client.randomPKCECodeVerifier()
const state = client.randomState()
const nonce = client.randomNonce()
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
  nonce
})
const answers = { username, password }
if (totpKey) answers.code = () => totp(totpKey, Number(steps))
const callback = await logIn(authorizationUrl.href, answers)
const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: codeVerifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true
})
const claims = tokens.claims()
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token)
const introspected = await client.tokenIntrospection(config, refreshed.access_token)
await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: 'refresh_token' })
const afterRevocation = await client.tokenIntrospection(config, refreshed.access_token)
const reuse = await client.refreshTokenGrant(config, tokens.refresh_token).then(
  () => 'accepted',
  (error) => (error instanceof client.ResponseBodyError ? error.error : String(error))
)
// Single sign-on: the same cookie jar, no form.
const ssoVerifier = client.randomPKCECodeVerifier()
const ssoState = client.randomState()
const ssoNonce = client.randomNonce()
const ssoUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid',
  code_challenge: await client.calculatePKCECodeChallenge(ssoVerifier),
  code_challenge_method: 'S256',
  state: ssoState,
  nonce: ssoNonce,
  prompt: 'none'
})
const sso = await go(ssoUrl.href)
const ssoTokens = await client.authorizationCodeGrant(config, new URL(sso.headers.get('location')), {
  pkceCodeVerifier: ssoVerifier,
  expectedState: ssoState,
  expectedNonce: ssoNonce,
  idTokenExpected: true
})
// RP-initiated logout, then prompt=none has no session to answer from.
const logoutUri = new URL('/bye', redirectUri).href
const logout = await go(client.buildEndSessionUrl(config, {
  id_token_hint: ssoTokens.id_token,
  post_logout_redirect_uri: logoutUri,
  state: 'after-logout'
}).href)
const afterLogout = await go(ssoUrl.href)
console.log(JSON.stringify({
  sso: { status: sso.status, claims: ssoTokens.claims() },
  logout: { status: logout.status, location: logout.headers.get('location') },
  afterLogout: afterLogout.headers.get('location'),
  claims,
  refreshedClaims: refreshed.claims(),
  userinfo,
  introspected,
  afterRevocation,
  reuse,
  rotated: refreshed.refresh_token !== tokens.refresh_token
}))
