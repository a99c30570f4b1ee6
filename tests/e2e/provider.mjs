// The authorization server of the end-to-end suite: oidc-provider with static clients, on loopback.
//
// HTTPS on E2E_PROVIDER_PORT is what mailtoken, Chromium and the headless clients talk to (the
// issuer). Plain HTTP on E2E_ADMIN_PORT serves the same provider for Dovecot's token introspection
// (Dovecot is infrastructure here, not under test) plus the harness's own /e2e/ routes:
//   GET  /e2e/counts        token-endpoint requests by grant type and outcome, as JSON
//   POST /e2e/reset         zero the counters
//   POST /e2e/ttl?seconds=N access-token lifetime for tokens issued from now on
// Clients may also register themselves (RFC 7591) at the issuer's registration_endpoint.
// State is in memory only: a restart forgets every login.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`provider: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const host = '127.0.0.1';
const port = Number(env('E2E_PROVIDER_PORT'));
const adminPort = Number(env('E2E_ADMIN_PORT'));
const issuer = `https://${host}:${port}`;

let accessTokenTtl = Number(process.env.E2E_ACCESS_TTL || 600);
const delegates = new Map(
  (process.env.E2E_DELEGATES || '')
    .split(',')
    .filter(Boolean)
    .map((pair) => pair.split('=')),
);
const deviceInterval = Number(process.env.E2E_DEVICE_INTERVAL || 1);

// counts[grant_type][outcome] where outcome is "ok" or the OAuth2 error code.
let counts = {};
const count = (grantType, outcome) => {
  counts[grantType] ??= {};
  counts[grantType][outcome] = (counts[grantType][outcome] ?? 0) + 1;
};

const configuration = {
  clients: [
    {
      // mailtoken as a public native app (RFC 8252): loopback IP-literal redirects on any port
      // (section 7.3), device flow. No `localhost` redirect is registered, so the provider is as
      // strict as RFC 8252 section 8.3 allows: a sign-in sent to http://localhost:PORT/ fails.
      client_id: env('E2E_CLIENT_ID'),
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/', 'http://[::1]/'],
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
    },
    {
      // A public client registered with one https loopback redirect and nothing else (issue 24):
      // oidc-provider compares it exactly, port included. A native client may not register an
      // https loopback address (oidc-provider's client schema), so this one is a web client, as
      // such registrations are at Microsoft.
      client_id: env('E2E_HTTPS_CLIENT_ID'),
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      redirect_uris: [`https://localhost:${env('E2E_HTTPS_LOOPBACK_PORT')}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // A service mailbox: a confidential client that asks for itself (client_credentials).
      // client_secret_post is what mailtoken sends unless a registration says otherwise.
      client_id: env('E2E_ROBOT_ID'),
      client_secret: env('E2E_ROBOT_SECRET'),
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'mail',
    },
    {
      // Dovecot's passdb introspects every token it is shown.
      client_id: env('E2E_INTROSPECT_ID'),
      client_secret: env('E2E_INTROSPECT_SECRET'),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'mail', 'email'],
  // Who signed in (issue 33): devInteractions makes the login the account id; the ID token and
  // the UserInfo endpoint name it as `email` when the scope asks for it.
  claims: { email: ['email'], openid: ['sub'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(id.includes('@') ? { email: id } : {}) }),
  }),
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    // RFC 7591 dynamic client registration, open to anyone (no initial access token), as
    // draft-ietf-mailmaint-oauth-public asks mail providers (scenario 32).
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  // Every login of the public client gets a refresh token, whatever scope mailtoken asks for.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Always rotate; oidc-provider revokes the whole grant when a used refresh token comes back.
  rotateRefreshToken: () => true,
  expiresWithSession: async () => false,
  // Dovecot's oauth2 passdb compares this with the SASL user name. A delegate (E2E_DELEGATES,
  // "delegate=mailbox,...") stands for a shared mailbox it has Full Access to: Dovecot then lets
  // it in as that mailbox, as Exchange Online lets a delegate in as the shared mailbox it names
  // in the SASL string (scenario 34). A model of the permission, not of Exchange.
  extraTokenClaims: async (_ctx, token) => {
    const id = token.accountId ?? token.clientId;
    return { username: delegates.get(id) ?? id };
  },
  ttl: {
    AccessToken: () => accessTokenTtl,
    ClientCredentials: () => accessTokenTtl,
    AuthorizationCode: 120,
    DeviceCode: 600,
    Grant: 86400,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: 86400,
    Session: 86400,
  },
  cookies: { keys: ['mailtoken-e2e-cookie-key-not-secret'] },
};

const provider = new Provider(issuer, configuration);

// Quiet the development warnings; errors still reach stderr through the events below.
provider.on('server_error', (_ctx, error) => console.error('provider: server_error', error));

provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token') {
    const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
    const outcome = ctx.status === 200 ? 'ok' : (ctx.body?.error ?? `http_${ctx.status}`);
    count(grantType, outcome);
    console.error(`provider: token ${grantType} -> ${outcome}`);
  }
  // oidc-provider sends no polling interval; RFC 8628 says clients then wait 5 s, too slow here.
  if (ctx.method === 'POST' && ctx.path === '/device/auth' && ctx.status === 200 && ctx.body) {
    ctx.body.interval = deviceInterval;
  }
});

const callback = provider.callback();

const tls = {
  cert: fs.readFileSync(env('E2E_TLS_CERT')),
  key: fs.readFileSync(env('E2E_TLS_KEY')),
};
const main = https.createServer(tls, callback);

const admin = http.createServer((req, res) => {
  const url = new URL(req.url, `http://${host}:${adminPort}`);
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === '/e2e/counts' && req.method === 'GET') {
    return reply(200, counts);
  }
  if (url.pathname === '/e2e/reset' && req.method === 'POST') {
    counts = {};
    return reply(200, counts);
  }
  if (url.pathname === '/e2e/ttl' && req.method === 'POST') {
    const seconds = Number(url.searchParams.get('seconds'));
    if (!Number.isInteger(seconds) || seconds < 1) return reply(400, { error: 'seconds' });
    accessTokenTtl = seconds;
    return reply(200, { seconds });
  }
  if (url.pathname.startsWith('/e2e/')) return reply(404, { error: 'not found' });
  return callback(req, res);
});

main.listen(port, host, () => {
  admin.listen(adminPort, host, () => {
    console.error(`provider: ready at ${issuer} (admin http://${host}:${adminPort})`);
    if (process.env.E2E_READY_FILE) fs.writeFileSync(process.env.E2E_READY_FILE, 'ready\n');
  });
});

const stop = () => {
  main.close();
  admin.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
