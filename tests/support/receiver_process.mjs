// The process side every node test receiver shares (webhook_receiver.mjs, otlp_receiver.mjs):
// `route` answers each request (a rejection is a 500 and a line on stderr); the server listens
// on 127.0.0.1 (port 0: a free one) and prints its port as the first line of stdout; it stops
// on SIGTERM or SIGINT and, with `exitOnStdinClose`, when the parent closes its end of stdin
// (so a crashed test leaves no receiver behind).
import { createServer } from 'node:http';

// The whole body, or null when it is over `maxBody` bytes (then the rest is read and dropped,
// so the client gets the 413 instead of a reset while still sending).
export function readBody(req, maxBody) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > maxBody;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBody) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function runReceiver({ name, port, exitOnStdinClose, route }) {
  const server = createServer((req, res) => {
    route(req, res).catch((e) => {
      process.stderr.write(`${name}: ${e.stack ?? e}\n`);
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
      }
      res.end('receiver error');
    });
  });

  function stop() {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  }
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (exitOnStdinClose) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  // The reader may close its end after the port line; a later write must not crash us.
  process.stdout.on('error', () => {});

  server.on('error', (e) => {
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
  });
  return server;
}
