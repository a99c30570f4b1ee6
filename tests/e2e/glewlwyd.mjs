// glewlwyd 2.7.5 (Debian's package), the suite's second OpenID Connect provider, written
// independently of oidc-provider: its setup through the admin API, and a headless user of its
// authentication API and OIDC pages. lib.sh starts the server; this only talks to it.
//
//   node glewlwyd.mjs configure          as the package's first administrator (admin/password):
//                                        the scopes, the OIDC plugin instance, the users alice and
//                                        mallory, and the public client
//   node glewlwyd.mjs redirects URI...   the administrator sets the public client's redirect URIs
//   node glewlwyd.mjs client ID           the administrator's view of a client (JSON)
//   node glewlwyd.mjs follow URL LOGIN   signs LOGIN in at an authorization URL and prints the URL
//                                        glewlwyd finally redirects to
//   node glewlwyd.mjs device URL LOGIN   approves the device code of URL (verification_uri_complete)
//   node glewlwyd.mjs browser URL        $BROWSER (through glewlwyd-browser.sh): from mailtoken's
//                                        start page, the sign-in of $E2E_LOGIN, and the redirect
//                                        delivered to mailtoken's listener; reports on stderr
//
// How glewlwyd signs a user in (docs/API.md and src/plugin/protocol_oidc.c at v2.7.5): /auth first
// sends the browser to its login page (login.html?client_id=..&scope=..&callback_url=..), whose
// script logs in with `POST /api/auth` (a session cookie), records the consent with
// `PUT /api/auth/grant/{client_id}/` (scopes separated by spaces, although API.md says commas:
// src/scope.c splits on " "), and goes back to callback_url with `g_continue` added; only then does
// /auth redirect to the client. This does the same requests without the page.
//
// Environment: E2E_GLEWLWYD (https://127.0.0.1:PORT), E2E_GLEWLWYD_DIR (its directory, with the
// signing key), E2E_GLEWLWYD_CLIENT_ID, E2E_GLEWLWYD_REDIRECT (the one redirect URI registered
// for it); NODE_EXTRA_CA_CERTS trusts the suite's CA.
// Every user's password is LOGIN-password.

import fs from 'node:fs';
import path from 'node:path';

const base = process.env.E2E_GLEWLWYD;
const STEP_TIMEOUT_MS = 10_000;
const log = (message) => console.error(`glewlwyd: ${message}`);

function fail(message) {
  log(`failed: ${message}`);
  process.exit(1);
}

const password = (login) => `${login}-password`;

/** One glewlwyd session: its cookie (GLEWLWYD2_SESSION_ID, path /). */
class Session {
  #cookies = new Map();

  async request(url, { method = 'GET', json, form, headers = {} } = {}) {
    const h = { ...headers };
    const cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie && new URL(url).origin === new URL(base).origin) h.cookie = cookie;
    let body;
    if (json !== undefined) {
      h['content-type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, {
      method, headers: h, body, redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    const text = await response.text();
    return { status: response.status, location: response.headers.get('location'), text };
  }

  /** `POST /api/auth` with a password (API.md, "Authenticate a user with password"). */
  async logIn(login, secret = password(login)) {
    const r = await this.request(`${base}/api/auth/`, { method: 'POST', json: { username: login, password: secret } });
    if (r.status !== 200) fail(`POST /api/auth/ as ${login}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }

  /** An admin API call that must succeed. */
  async admin(method, where, json) {
    const r = await this.request(`${base}/api${where}`, { method, json });
    if (r.status !== 200) fail(`${method} /api${where}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return r.text ? JSON.parse(r.text) : undefined;
  }
}

async function configure() {
  const dir = process.env.E2E_GLEWLWYD_DIR;
  const admin = new Session();
  // The package's first administrator, as its database comes (docs/INSTALL.md: admin/password).
  await admin.logIn('admin', 'password');
  // The scopes mailtoken asks for besides openid (which the package's database already has).
  // A password sign-in is what they take (password_max_age 0: no re-entry).
  for (const name of ['email', 'mail']) {
    await admin.admin('POST', '/scope/', {
      name, display_name: name, description: `the e2e scope ${name}`, password_required: true, password_max_age: 0,
    });
  }
  // The OIDC plugin instance: parameters as docs/OIDC.md names them (its section per parameter).
  await admin.admin('POST', '/mod/plugin/', {
    module: 'oidc',
    name: 'oidc',
    display_name: 'OpenID Connect',
    enabled: true,
    parameters: {
      // The issuer: discovery lives at ISS/.well-known/openid-configuration.
      iss: `${base}/api/oidc`,
      'jwt-type': 'ecdsa',
      'jwt-key-size': '256',
      key: fs.readFileSync(path.join(dir, 'jwt.key'), 'utf8'),
      cert: fs.readFileSync(path.join(dir, 'jwt.pub'), 'utf8'),
      'access-token-duration': 600,
      'refresh-token-duration': 1209600,
      'code-duration': 600,
      'refresh-token-rolling': true,
      // One-time refresh tokens: each refresh disables the one it used and answers a new one;
      // a disabled one sent again disables the chain's current one.
      'refresh-token-one-use': 'always',
      'allow-non-oidc': false,
      'auth-type-code-enabled': true,
      'auth-type-refresh-enabled': true,
      'auth-type-device-enabled': true,
      'auth-type-token-enabled': false,
      'auth-type-implicit-enabled': false,
      'auth-type-password-enabled': false,
      'auth-type-client-enabled': false,
      // /introspect and /revoke exist only with this; a client authenticates to them with its
      // id and secret (the "target client" option), which a public client has none of.
      'introspection-revocation-allowed': true,
      'introspection-revocation-allow-target-client': true,
      'pkce-allowed': true,
      'pkce-method-plain-allowed': false,
      // The user's e-mail address in the ID token when the scope email is granted.
      'email-claim': 'on-demand',
      'email-claim-scope': ['email'],
      'name-claim': 'no',
      'device-authorization-expiration': 600,
      // RFC 8628 says 5 s by default; 1 s keeps the device scenario short.
      'device-authorization-interval': 1,
      'allowed-scope': ['openid', 'email', 'mail'],
      // Dynamic registration (RFC 7591) at /api/oidc/register, open to anyone (no
      // register-client-auth-scope): what the IETF mailmaint drafts ask of mail providers.
      'register-client-allowed': true,
    },
  });
  for (const login of ['alice', 'mallory']) {
    await admin.admin('POST', '/user/', {
      username: login,
      name: login,
      email: `${login}@mail.test`,
      password: password(login),
      // The scopes a user may grant to a client (the consent grants only those it has).
      scope: ['openid', 'email', 'mail'],
      enabled: true,
    });
  }
  // The public client of an organisation that registered mailtoken with one exact redirect URI.
  await admin.admin('POST', '/client/', {
    client_id: process.env.E2E_GLEWLWYD_CLIENT_ID,
    name: 'mailtoken',
    confidential: false,
    redirect_uri: [process.env.E2E_GLEWLWYD_REDIRECT],
    authorization_type: ['code', 'refresh_token', 'device_authorization'],
    scope: [],
    enabled: true,
  });
  log('configured: scopes email and mail, plugin oidc, users alice and mallory, the public client');
}

/** The administrator registers exactly these redirect URIs for the public client. */
async function redirects(uris) {
  const admin = new Session();
  await admin.logIn('admin', 'password');
  const id = process.env.E2E_GLEWLWYD_CLIENT_ID;
  const client = await admin.admin('GET', `/client/${encodeURIComponent(id)}`);
  for (const key of ['source', 'client_id']) delete client[key];
  client.redirect_uri = uris;
  await admin.admin('PUT', `/client/${encodeURIComponent(id)}`, client);
  log(`${id} now has the redirect URIs ${uris.join(' ')}`);
}

/** The administrator's view of a client: `GET /api/client/{id}`. */
async function client(id) {
  const admin = new Session();
  await admin.logIn('admin', 'password');
  process.stdout.write(`${JSON.stringify(await admin.admin('GET', `/client/${encodeURIComponent(id)}`))}\n`);
}

/**
 * Walks from `start` the way the login page would for `login`: whenever glewlwyd sends the
 * browser to login.html, logs in (once), grants the scopes that page was asked about to its
 * client, and continues at its callback_url. Returns {redirect} when glewlwyd redirects away from
 * itself, {prompt} when it ends on login.html with a prompt (the device flow's "deviceComplete"),
 * or {status, text} for any other answer.
 */
async function walk(session, start, login) {
  const origin = new URL(base).origin;
  let url = start;
  let loggedIn = false;
  for (let step = 0; step < 10; step += 1) {
    const r = await session.request(url);
    if (r.status < 300 || r.status >= 400 || !r.location) return { status: r.status, text: r.text, url };
    const next = new URL(r.location, url);
    if (next.origin !== origin) return { redirect: next.href };
    if (!next.pathname.endsWith('/login.html')) {
      url = next.href;
      continue;
    }
    const p = next.searchParams;
    const callback = p.get('callback_url');
    if (p.get('prompt') && p.get('prompt') !== 'login' && p.get('prompt') !== 'consent') return { prompt: p.get('prompt') };
    if (!callback) return { status: r.status, text: `login.html without a callback_url: ${next.href}`, url };
    if (!loggedIn) {
      await session.logIn(login);
      loggedIn = true;
      log(`logged in as ${login}`);
    }
    if (p.get('client_id') && p.get('scope')) {
      const granted = await session.request(`${base}/api/auth/grant/${encodeURIComponent(p.get('client_id'))}/`, {
        method: 'PUT', json: { scope: p.get('scope') },
      });
      if (granted.status !== 200) fail(`PUT /api/auth/grant/${p.get('client_id')}/: HTTP ${granted.status}`);
      log(`granted ${p.get('scope')} to ${p.get('client_id')}`);
    }
    url = `${callback}${callback.includes('?') ? '&' : '?'}g_continue`;
  }
  return fail(`no end after 10 steps from ${start}`);
}

const describe = (end) => `HTTP ${end.status}${end.text ? `: ${end.text.slice(0, 200)}` : ' with an empty body'} at ${new URL(end.url).pathname}`;

async function follow(url, login) {
  const end = await walk(new Session(), url, login);
  if (!end.redirect) fail(`the sign-in did not redirect back: ${end.prompt ? `prompt ${end.prompt}` : describe(end)}`);
  process.stdout.write(`${end.redirect}\n`);
}

async function device(url, login) {
  const end = await walk(new Session(), url, login);
  if (end.prompt !== 'deviceComplete') fail(`the device code was not approved: ${end.prompt ? `prompt ${end.prompt}` : end.redirect ?? describe(end)}`);
  process.stdout.write('approved\n');
}

/** $BROWSER: mailtoken's start page, which redirects to glewlwyd; the sign-in; back to the listener. */
async function browser(start) {
  const login = process.env.E2E_LOGIN;
  if (!login) fail('E2E_LOGIN must be set');
  const session = new Session();
  const first = await session.request(start);
  if (!first.location) fail(`mailtoken's start page answered HTTP ${first.status} without a redirect`);
  const auth = new URL(first.location, start);
  log(`sent on to ${auth.origin}${auth.pathname} (redirect_uri ${auth.searchParams.get('redirect_uri')}; parameters: ${[...auth.searchParams.keys()].join(', ')})`);
  // For a scenario that asks glewlwyd the same question again (E2E_AUTH_URL_FILE).
  if (process.env.E2E_AUTH_URL_FILE) fs.writeFileSync(process.env.E2E_AUTH_URL_FILE, `${auth.href}\n`);
  const end = await walk(session, auth.href, login);
  if (!end.redirect) fail(`the provider did not redirect back: ${end.prompt ? `prompt ${end.prompt}` : describe(end)}`);
  const landed = new URL(end.redirect);
  log(`redirected to ${landed.origin}${landed.pathname} (parameters: ${[...landed.searchParams.keys()].join(', ')})`);
  const page = await session.request(end.redirect);
  const text = page.text.replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  log(`page says: ${text.replace(/\s+/g, ' ').trim().slice(0, 200)}`);
}

const [mode, ...args] = process.argv.slice(2);
if (!base) fail('E2E_GLEWLWYD must be set');
try {
  if (mode === 'configure' && args.length === 0) await configure();
  else if (mode === 'redirects' && args.length > 0) await redirects(args);
  else if (mode === 'client' && args.length === 1) await client(args[0]);
  else if (mode === 'follow' && args.length === 2) await follow(args[0], args[1]);
  else if (mode === 'device' && args.length === 2) await device(args[0], args[1]);
  else if (mode === 'browser' && args.length === 1) await browser(args[0]);
  else fail('usage: configure | redirects URI... | client ID | follow URL LOGIN | device URL LOGIN | browser URL');
} catch (error) {
  fail(error.stack ?? String(error));
}
