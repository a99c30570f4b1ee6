// A headless user of the provider's pages: follows redirects with a cookie jar and submits the
// login, consent and device-code forms of oidc-provider's development interactions.
//
//   node login.mjs tokens LOGIN             code flow with PKCE as the public client; prints the
//                                           token response (JSON) on stdout
//   node login.mjs follow URL LOGIN         signs in at URL and prints the URL the provider finally
//                                           redirects to (what a user copies from the address bar)
//   node login.mjs device URL LOGIN [CODE]  approves a device login at the verification URI
//
// Environment: E2E_ISSUER, E2E_CLIENT_ID; NODE_EXTRA_CA_CERTS trusts the suite's CA.

import crypto from 'node:crypto';

const issuer = process.env.E2E_ISSUER;
const clientId = process.env.E2E_CLIENT_ID;
const STEP_TIMEOUT_MS = 10_000;

function fail(message) {
  console.error(`login.mjs: ${message}`);
  process.exit(1);
}

/** Cookies by name, each with the path it was set for (oidc-provider scopes them by path). */
class Jar {
  #cookies = new Map();

  take(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key, val = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = val;
        if (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now()) expired = true;
        if (key.toLowerCase() === 'max-age' && Number(val) <= 0) expired = true;
      }
      const key = `${path} ${name}`;
      if (expired || value === '') this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

const decode = (text) => text
  .replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&#x27;', "'")
  .replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

function attributes(tag) {
  const found = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    found[m[1].toLowerCase()] = decode(m[3] ?? m[4] ?? '');
  }
  return found;
}

/** The first POST form of a page: its action and the named inputs inside it. */
function firstForm(html) {
  const m = html.match(/<form\b([^>]*)>([\s\S]*?)<\/form>/i);
  if (!m) return undefined;
  const form = attributes(m[1]);
  const fields = {};
  for (const input of m[2].matchAll(/<input\b[^>]*>/gi)) {
    const a = attributes(input[0]);
    if (a.name) fields[a.name] = a.value ?? '';
  }
  return { action: form.action, method: (form.method || 'get').toLowerCase(), fields };
}

/**
 * Walks from `start` through the provider's pages until it redirects away from the issuer
 * (returns that URL) or shows a page without a form (returns {page}).
 */
async function walk(start, { login, userCode }) {
  const jar = new Jar();
  const origin = new URL(issuer).origin;
  let url = start;
  let init = { method: 'GET' };
  for (let step = 0; step < 25; step += 1) {
    const headers = { ...(init.headers ?? {}) };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    const response = await fetch(url, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    jar.take(response);
    if (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location'), url);
      await response.arrayBuffer();
      if (next.origin !== origin) return { redirect: next.href };
      url = next.href;
      init = { method: 'GET' };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) fail(`HTTP ${response.status} at ${url}: ${html.slice(0, 300)}`);
    if (/<p class="red">/.test(html)) fail(`the provider reports an error at ${url}: ${html.match(/<p class="red">([^<]*)/)[1]}`);
    const form = firstForm(html);
    if (!form) return { page: html };
    const fields = { ...form.fields };
    if ('login' in fields) fields.login = login;
    if ('password' in fields) fields.password = 'any-password';
    if ('user_code' in fields && !fields.user_code) {
      if (!userCode) fail('the provider asks for a user code and none was given');
      fields.user_code = userCode;
    }
    url = new URL(form.action || url, url).href;
    init = form.method === 'post'
      ? {
        method: 'POST',
        body: new URLSearchParams(fields).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }
      : { method: 'GET' };
    if (form.method !== 'post') {
      const target = new URL(url);
      for (const [k, v] of Object.entries(fields)) target.searchParams.set(k, v);
      url = target.href;
    }
  }
  return fail(`no end after 25 steps from ${start}`);
}

const base64url = (buffer) => buffer.toString('base64url');

async function tokens(login) {
  const verifier = base64url(crypto.randomBytes(48));
  const challenge = base64url(crypto.createHash('sha256').update(verifier).digest());
  const redirectUri = 'http://127.0.0.1/';
  const state = base64url(crypto.randomBytes(12));
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid offline_access mail',
    prompt: 'consent',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  const end = await walk(auth.href, { login });
  if (!end.redirect) fail('the sign-in did not redirect back');
  const back = new URL(end.redirect);
  if (back.searchParams.get('state') !== state) fail(`state mismatch in ${end.redirect}`);
  const code = back.searchParams.get('code');
  if (!code) fail(`no code in the redirect: ${back.searchParams.get('error')}`);
  const requested = Date.now();
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId,
    }).toString(),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const body = await response.json();
  if (response.status !== 200 || !body.access_token || !body.refresh_token) {
    fail(`token request failed: ${response.status} ${body.error ?? ''}`);
  }
  body.requested_at = new Date(requested).toISOString();
  process.stdout.write(`${JSON.stringify(body)}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (!issuer || !clientId) fail('E2E_ISSUER and E2E_CLIENT_ID must be set');
try {
  if (mode === 'tokens' && args.length === 1) {
    await tokens(args[0]);
  } else if (mode === 'follow' && args.length === 2) {
    const end = await walk(args[0], { login: args[1] });
    if (!end.redirect) fail('the sign-in did not redirect back to the client');
    process.stdout.write(`${end.redirect}\n`);
  } else if (mode === 'device' && (args.length === 2 || args.length === 3)) {
    const end = await walk(args[0], { login: args[1], userCode: args[2] });
    if (!end.page || !/Sign-in Success/.test(end.page)) fail('the device login was not confirmed');
    process.stdout.write('approved\n');
  } else {
    fail('usage: tokens LOGIN | follow URL LOGIN | device URL LOGIN [CODE]');
  }
} catch (error) {
  fail(error.stack ?? String(error));
}
