// A tiny static file server on 127.0.0.1 for the docs assets, laid out like the npm CDN the
// service points at by default: /<prefix>/<file> → <folder>/<file>. Only files inside the
// mapped folders are served; anything else is 404.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

// mounts: { 'swagger-ui-dist@5': '/abs/node_modules/swagger-ui-dist', ... }
export async function startStaticServer(mounts) {
  const served = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const [, prefix, ...rest] = decodeURIComponent(url.pathname).split('/');
    const root = mounts[prefix];
    const file = root && path.resolve(root, rest.join('/'));
    if (!root || !file.startsWith(root + path.sep)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      served.push(url.pathname);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    served,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
