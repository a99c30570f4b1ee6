// JSON chores for the harness, so it needs no jq or python:
//
//   node json.mjs get FILE KEY.PATH          print a value (strings raw, others as JSON); exit 3
//                                            when absent. FILE "-" is stdin.
//   node json.mjs count FILE GRANT OUTCOME   the provider's count of token requests (its
//                                            /e2e/counts) of GRANT that ended in OUTCOME: 0 when
//                                            it saw none; exit 2 when FILE is no such counter
//   node json.mjs tokenfile TOKENS OPTIONS   a mailtoken token file (schema version 1, as
//                                            src/tokenfile.rs serializes TokenFile) built from a
//                                            token response; OPTIONS is a JSON object
//   node json.mjs muttfile TOKENS OPTIONS    the same login in mutt_oauth2.py's format
//
// TOKENS is the token response from login.mjs (with its requested_at).

import fs from 'node:fs';

const read = (file) => JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8'));

function get(file, keyPath) {
  let value = read(file);
  for (const key of keyPath.split('.').filter(Boolean)) {
    if (value === null || typeof value !== 'object' || !(key in value)) process.exit(3);
    value = value[key];
  }
  process.stdout.write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value)}\n`);
}

// A counter that cannot be read is an error, never a zero: only a well-formed table without the
// entry means the provider saw none.
function count(file, grant, outcome) {
  const counts = read(file);
  const fail = (why) => { console.error(`json.mjs count: ${why} in ${file}: ${JSON.stringify(counts)}`); process.exit(2); };
  if (counts === null || typeof counts !== 'object' || Array.isArray(counts)) fail('not a table of counts');
  const outcomes = counts[grant] ?? {};
  if (outcomes === null || typeof outcomes !== 'object') fail(`no outcomes for ${grant}`);
  const n = outcomes[outcome] ?? 0;
  if (!Number.isInteger(n) || n < 0) fail(`${grant}.${outcome} is not a count`);
  process.stdout.write(`${n}\n`);
}

// Options: issuer, client_id, email, flow, sasl_method, endpoints {imap, pop, smtp},
// recipients [age1...], expired (bool): pretend the access token has run out; revocation (bool):
// record the provider's RFC 7009 endpoint, as --issuer discovery does.
function tokenfile(tokens, o) {
  const requested = new Date(tokens.requested_at);
  let obtained = requested;
  let expiry = new Date(requested.getTime() + tokens.expires_in * 1000);
  if (o.expired) {
    obtained = new Date(Date.now() - 3600_000);
    expiry = new Date(Date.now() - 60_000);
  }
  const registration = {
    provider: 'e2e',
    issuer: o.issuer,
    authorize_endpoint: `${o.issuer}/auth`,
    devicecode_endpoint: `${o.issuer}/device/auth`,
    token_endpoint: `${o.issuer}/token`,
    scope: 'openid offline_access mail',
    scope_on_refresh: false,
    client_auth: 'client_secret_post',
    sasl_method: o.sasl_method ?? 'XOAUTH2',
  };
  if (o.revocation) registration.revocation_endpoint = `${o.issuer}/token/revocation`;
  for (const [protocol, url] of Object.entries(o.endpoints ?? {})) {
    registration[`${protocol}_endpoint`] = url;
  }
  const file = {
    version: 1,
    registration,
    flow: o.flow ?? 'localhostauthcode',
    email: o.email,
    client_id: o.client_id,
    access_token: tokens.access_token,
    access_token_expiry: expiry.toISOString(),
    access_token_obtained: obtained.toISOString(),
    refresh_token: tokens.refresh_token,
    granted_scope: tokens.scope,
    encryption: { kind: 'age', recipients: o.recipients },
  };
  process.stdout.write(JSON.stringify(file, null, 2));
}

// Python's datetime.isoformat() of a naive local time, as mutt_oauth2.py stores expirations.
function pythonLocalIso(date) {
  const pad = (n, width = 2) => String(n).padStart(width, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
    + `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
    + `.${pad(date.getMilliseconds() * 1000, 6)}`;
}

// json.dumps() of mutt_oauth2.py's token dictionary: keys in its order, ", " and ": "
// separators, no trailing newline.
function muttfile(tokens, o) {
  const expiry = new Date(new Date(tokens.requested_at).getTime() + tokens.expires_in * 1000);
  const entries = [
    ['registration', o.registration ?? 'google'],
    ['authflow', o.authflow ?? 'authcode'],
    ['email', o.email],
    ['access_token', tokens.access_token],
    ['access_token_expiration', pythonLocalIso(expiry)],
    ['refresh_token', tokens.refresh_token],
    ['client_id', o.client_id ?? ''],
    ['client_secret', o.client_secret ?? ''],
  ];
  const body = entries.map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ');
  process.stdout.write(`{${body}}`);
}

const [command, ...args] = process.argv.slice(2);
if (command === 'get' && args.length === 2) get(args[0], args[1]);
else if (command === 'count' && args.length === 3) count(args[0], args[1], args[2]);
else if (command === 'tokenfile' && args.length === 2) tokenfile(read(args[0]), JSON.parse(args[1]));
else if (command === 'muttfile' && args.length === 2) muttfile(read(args[0]), JSON.parse(args[1]));
else {
  console.error('usage: json.mjs get FILE KEY.PATH | count FILE GRANT OUTCOME | tokenfile TOKENS OPTIONS | muttfile TOKENS OPTIONS');
  process.exit(2);
}
