// The "user" of scenario 1: a real headless Chromium, driven by playwright-core, that opens the
// sign-in URL mailtoken hands to $BROWSER, fills oidc-provider's login and consent pages and
// follows the redirect to mailtoken's loopback listener.
//
//   node browser.mjs URL      (E2E_LOGIN: the login to type; E2E_SPKI: the server key's
//                              SHA-256 SPKI hash, so Chromium trusts the suite's certificate)
//
// Every request that leaves loopback is aborted: the machine has no network, and the test must
// not depend on one.

import { chromium } from 'playwright-core';

const url = process.argv[2];
const login = process.env.E2E_LOGIN;
const deadline = Number(process.env.E2E_BROWSER_TIMEOUT_MS || 45_000);
const log = (message) => console.error(`browser: ${message}`);

if (!url || !login) {
  log('usage: E2E_LOGIN=LOGIN node browser.mjs URL');
  process.exit(2);
}

const loopback = (href) => {
  const { hostname, protocol } = new URL(href);
  if (protocol === 'data:' || protocol === 'about:') return true;
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
};

const browser = await chromium.launch({
  executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: 30_000,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(process.env.E2E_SPKI ? [`--ignore-certificate-errors-spki-list=${process.env.E2E_SPKI}`] : []),
  ],
});
const timer = setTimeout(async () => {
  log(`gave up after ${deadline} ms`);
  await browser.close().catch(() => {});
  process.exit(1);
}, deadline);

let status = 1;
try {
  // Scenario 26: mailtoken's https listener presents a certificate made for that one sign-in,
  // which no browser knows; the person clicks through the warning they were told to expect.
  const context = await browser.newContext({ ignoreHTTPSErrors: Boolean(process.env.E2E_ACCEPT_LOOPBACK_CERT) });
  await context.route('**/*', (route) => (loopback(route.request().url()) ? route.continue() : route.abort()));
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  log(`opening ${new URL(url).origin}${new URL(url).pathname}`);
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  // mailtoken starts the browser on a page of its listener's, which sends it on to the provider:
  // the provider's origin is where that page led.
  const issuerOrigin = new URL(page.url()).origin;
  log(`sent on to ${issuerOrigin}${new URL(page.url()).pathname}`);

  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any-password');
  log('signing in');
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
    page.locator('button[type="submit"]').click(),
  ]);

  // The consent page, unless the provider skipped it.
  if (new URL(page.url()).origin === issuerOrigin && await page.locator('input[name="prompt"][value="consent"]').count()) {
    log('consenting');
    await page.locator('button[type="submit"]').click();
  }
  await page.waitForURL((target) => target.origin !== issuerOrigin, { waitUntil: 'domcontentloaded' });
  const landed = new URL(page.url());
  log(`redirected to ${landed.origin}${landed.pathname} (parameters: ${[...landed.searchParams.keys()].join(', ')})`);
  const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
  log(`page says: ${text}`);
  status = 0;
} catch (error) {
  log(`failed: ${error.message}`);
} finally {
  clearTimeout(timer);
  await browser.close().catch(() => {});
}
process.exit(status);
