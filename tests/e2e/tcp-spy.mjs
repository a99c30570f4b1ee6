// A recording TCP relay for scenario 8: listens on LISTEN_HOST:PORT and forwards to
// TARGET_HOST:PORT, writing every byte the client sent to E2E_SPY_DIR/NAME-N.c2s. The harness then
// checks that nothing before the TLS handshake carried an AUTH command, and that no token or SASL
// string ever crossed in the clear.
//
//   node tcp-spy.mjs NAME:LISTEN_HOST:LISTEN_PORT:TARGET_HOST:TARGET_PORT ...
//
// The relay connects out from 127.0.0.1 so that Dovecot, listening on 127.0.0.2, sees a remote
// client and enforces `ssl = required`.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const dir = process.env.E2E_SPY_DIR;
if (!dir) {
  console.error('tcp-spy: E2E_SPY_DIR must be set');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });

for (const spec of process.argv.slice(2)) {
  const [name, listenHost, listenPort, targetHost, targetPort] = spec.split(':');
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    const file = path.join(dir, `${name}-${connections}.c2s`);
    const record = fs.openSync(file, 'a');
    const upstream = net.connect({
      host: targetHost,
      port: Number(targetPort),
      localAddress: '127.0.0.1',
    });
    client.on('data', (chunk) => fs.writeSync(record, chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      upstream.end();
      try { fs.closeSync(record); } catch { /* closed already */ }
    });
    upstream.on('close', () => client.end());
  });
  server.listen(Number(listenPort), listenHost, () => {
    console.error(`tcp-spy: ${name} ${listenHost}:${listenPort} -> ${targetHost}:${targetPort}`);
  });
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
