// The relay behind Dovecot's submission service: a minimal SMTP server (RFC 5321) on loopback
// that accepts every message and stores it as E2E_SINK_DIR/N.eml (envelope in X-Envelope-*
// header lines, then the data exactly as received, dot-unstuffed).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const port = Number(process.env.E2E_SINK_PORT);
const dir = process.env.E2E_SINK_DIR;
if (!port || !dir) {
  console.error('smtp-sink: E2E_SINK_PORT and E2E_SINK_DIR must be set');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
let stored = 0;

const server = net.createServer((socket) => {
  socket.setTimeout(30_000, () => socket.destroy());
  let buffer = '';
  let inData = false;
  let from = '';
  let to = [];
  let data = [];
  const say = (line) => socket.write(`${line}\r\n`);
  say('220 sink.e2e ESMTP mailtoken-e2e sink');
  socket.on('data', (chunk) => {
    buffer += chunk.toString('latin1');
    let eol;
    while ((eol = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      if (inData) {
        if (line === '.') {
          inData = false;
          stored += 1;
          const file = path.join(dir, `${stored}.eml`);
          const head = `X-Envelope-From: ${from}\r\nX-Envelope-To: ${to.join(', ')}\r\n`;
          fs.writeFileSync(file, head + data.join('\r\n') + '\r\n', 'latin1');
          console.error(`smtp-sink: stored ${file}`);
          say(`250 2.0.0 stored as ${stored}`);
          from = '';
          to = [];
          data = [];
        } else {
          data.push(line.startsWith('.') ? line.slice(1) : line);
        }
        continue;
      }
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO') {
        say('250-sink.e2e');
        say('250-8BITMIME');
        say('250 SIZE 10485760');
      } else if (verb === 'HELO') {
        say('250 sink.e2e');
      } else if (verb === 'MAIL') {
        from = line.replace(/^MAIL FROM:\s*/i, '');
        say('250 2.1.0 ok');
      } else if (verb === 'RCPT') {
        to.push(line.replace(/^RCPT TO:\s*/i, ''));
        say('250 2.1.5 ok');
      } else if (verb === 'DATA') {
        inData = true;
        say('354 end with <CRLF>.<CRLF>');
      } else if (verb === 'RSET') {
        from = '';
        to = [];
        data = [];
        say('250 2.0.0 ok');
      } else if (verb === 'NOOP') {
        say('250 2.0.0 ok');
      } else if (verb === 'QUIT') {
        say('221 2.0.0 bye');
        socket.end();
      } else {
        say('502 5.5.2 not implemented');
      }
    }
  });
  socket.on('error', () => {});
});

server.listen(port, '127.0.0.1', () => console.error(`smtp-sink: listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
