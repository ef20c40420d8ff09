// Passkeys in a real browser: Debian's headless Chromium with the DevTools
// protocol's virtual authenticator (internal transport, resident keys, user
// verification), driven by puppeteer-core.
//
//   node passkeys.mjs CHROMIUM BASE CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD SCREENSHOTS
//
// 1. The account page: the user logs in with the password and adds a
//    passkey ("Add a passkey": navigator.credentials.create), then logs out.
// 2. An application (panva's openid-client: discovery, PKCE, state, nonce)
//    sends the browser to the hosted login page, which shows "Sign in with a
//    passkey"; clicking it logs the user in and the browser goes back to
//    REDIRECT_URI, where openid-client exchanges the code and verifies the
//    ID token.
// 3. In a fresh browser (no session with Limen) holding the same passkey, the
//    login page's autofill (conditional mediation) logs the user in without a
//    click.
// Prints one JSON line: the account page's passkeys and the ID token claims
// of both logins as openid-client verified them.
// Screenshots of the account page and of the login page with the passkey
// button go to SCREENSHOTS.

import * as oidc from 'openid-client';
import puppeteer from 'puppeteer-core';

const [chromium, base, clientId, clientSecret, redirectUri, username, password, screenshots] = process.argv.slice(2);

const config = await oidc.discovery(new URL(`${base}/oidc`), clientId, {}, oidc.ClientSecretBasic(clientSecret), {
  execute: [oidc.allowInsecureRequests],
});
oidc.enableNonRepudiationChecks(config);

/// A login request of the application: the page's address and what its
/// answer is checked against.
async function loginRequest() {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const finish = async (callback) => (await oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  })).claims();
  return { url: url.href, finish };
}

const AUTHENTICATOR = {
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/// A page with a virtual authenticator, holding `credential` when given;
/// requests to the application's redirect URI are answered here (that
/// address does not exist) and recorded.
async function pageWithAuthenticator(context, credential) {
  const page = await context.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
  if (credential) {
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  }
  const arrived = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url().startsWith(redirectUri)) {
      arrived.push(request.url());
      request.respond({ status: 200, contentType: 'text/html', body: '<p>the application</p>' });
    } else {
      request.continue();
    }
  });
  return { page, cdp, authenticatorId, arrived };
}

async function waitFor(arrived, what) {
  for (let i = 0; i < 100 && arrived.length === 0; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (arrived.length === 0) {
    throw new Error(`${what}: the browser never reached the application`);
  }
  return arrived[0];
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const first = await pageWithAuthenticator(browser.defaultBrowserContext());
  const { page } = first;
  // This browser tries the button: its autofill (which needs no touch from
  // a virtual authenticator) would log in before the click.
  await page.evaluateOnNewDocument(() => {
    PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
  });

  // 1. The account page: a login with the password first (the page sends
  //    the browser to the login page as its own client), then "Add a passkey".
  await page.goto(`${base}/oidc/account`);
  await page.waitForSelector('#password');
  await page.type('#username', username);
  await page.type('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
  await page.waitForSelector('#passkey-add-button');
  await page.screenshot({ path: `${screenshots}/account-empty-desktop.png` });
  await page.$eval('#passkey-name', (input) => { input.value = ''; });
  await page.type('#passkey-name', 'New passkey');
  await Promise.all([page.waitForNavigation(), page.click('#passkey-add-button')]);
  await page.waitForSelector('ul.passkeys');
  // Renamed on the page: its own form, the page again with a notice.
  await page.click('ul.passkeys summary');
  const renameInput = await page.$('ul.passkeys input[name=new_name]');
  await renameInput.click({ clickCount: 3 });
  await renameInput.type('This browser');
  await Promise.all([page.waitForNavigation(), page.click('ul.passkeys form button[type=submit]')]);
  const listed = await page.$$eval('ul.passkeys strong', (names) => names.map((name) => name.textContent));
  for (const [name, width, height] of [['desktop', 1280, 800], ['phone', 390, 844]]) {
    await page.setViewport({ width, height });
    await page.screenshot({ path: `${screenshots}/account-passkeys-${name}.png` });
  }
  const registered = { listed };

  // Log out of Limen (the confirmation page's button).
  await page.goto(`${base}/oidc/end_session`);
  await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);

  // 2. The login page's button.
  const byButtonRequest = await loginRequest();
  await page.goto(byButtonRequest.url);
  await page.waitForSelector('#passkey-button:not([hidden])');
  for (const [name, width, height] of [['desktop', 1280, 800], ['phone', 390, 844]]) {
    await page.setViewport({ width, height });
    await page.screenshot({ path: `${screenshots}/oidc-login-passkey-${name}.png` });
  }
  const autocomplete = await page.$eval('#username', (input) => input.autocomplete);
  const credentials = (await first.cdp.send('WebAuthn.getCredentials', { authenticatorId: first.authenticatorId })).credentials;
  await page.click('#passkey-button');
  const byButton = await byButtonRequest.finish(await waitFor(first.arrived, 'the passkey button'));

  // 3. Autofill in a fresh browser holding the same passkey.
  const context = await browser.createBrowserContext();
  const second = await pageWithAuthenticator(context, credentials[0]);
  const byAutofillRequest = await loginRequest();
  await second.page.goto(byAutofillRequest.url);
  const byAutofill = await byAutofillRequest.finish(await waitFor(second.arrived, 'the autofill'));

  console.log(JSON.stringify({
    registered,
    stored: credentials.map((c) => ({ rpId: c.rpId, isResidentCredential: c.isResidentCredential, signCount: c.signCount })),
    byButton,
    byAutofill,
    autocomplete,
  }));
} finally {
  await browser.close();
}
