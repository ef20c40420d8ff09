// BankID on the hosted login page in a real browser: Debian's headless
// Chromium, driven by puppeteer-core, opens the page an application (panva's
// openid-client) sends it to, chooses BankID, types the personal number,
// and waits while the page's script collects the order, renews the QR code
// and finally follows the login to the application, where openid-client
// exchanges the code and verifies the ID token.
//
//   node bankid.mjs CHROMIUM BASE CLIENT_ID CLIENT_SECRET REDIRECT_URI PERSONAL_NUMBER SCREENSHOTS LANGUAGE
//
// Prints one JSON line: the QR codes the page showed (as data URLs), BankID's
// messages it showed, and the ID token's claims.

import * as oidc from 'openid-client';
import puppeteer from 'puppeteer-core';

const [chromium, base, clientId, clientSecret, redirectUri, personalNumber, screenshots, language] =
  process.argv.slice(2);

const config = await oidc.discovery(new URL(`${base}/oidc`), clientId, {}, oidc.ClientSecretBasic(clientSecret), {
  execute: [oidc.allowInsecureRequests],
});
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

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--lang=${language}`],
});
try {
  const page = await browser.newPage();
  await page.setExtraHTTPHeaders({ 'Accept-Language': language });
  await page.setViewport({ width: 390, height: 844 });
  let arrived = null;
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url().startsWith(redirectUri)) {
      arrived = request.url();
      request.respond({ status: 200, contentType: 'text/html', body: '<p>the application</p>' });
    } else {
      request.continue();
    }
  });
  await page.goto(url.href);
  await page.click('details.bankid summary');
  await page.type('#personal_number', personalNumber);
  await Promise.all([page.waitForNavigation(), page.click('details.bankid button[type=submit]')]);
  await page.waitForSelector('#bankid-qr');
  const qrCodes = new Set();
  const messages = new Set();
  let shot = false;
  for (let i = 0; i < 150 && !arrived; i += 1) {
    const seen = await page.evaluate(() => ({
      qr: document.getElementById('bankid-qr')?.src ?? null,
      message: document.getElementById('bankid-status')?.textContent ?? '',
    })).catch(() => null);
    if (seen?.qr) { qrCodes.add(seen.qr); }
    if (seen?.message) { messages.add(seen.message); }
    if (seen?.message && !shot) {
      await page.screenshot({ path: `${screenshots}/oidc-bankid-phone-${language}.png` });
      shot = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!arrived) {
    throw new Error(`the BankID login never reached the application; messages ${[...messages]}`);
  }
  const tokens = await oidc.authorizationCodeGrant(config, new URL(arrived), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  console.log(JSON.stringify({ qrCodes: [...qrCodes], messages: [...messages], claims: tokens.claims() }));
} finally {
  await browser.close();
}
