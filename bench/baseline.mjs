// The baseline for `npm run bench`: a bare Fastify 5 server (no logger, no plugins) that
// sends, for each method + URL, the exact answer mailconf gave (status, content type, body
// bytes), captured by bench/compare.mjs and handed over in the file named by argv[2].
// It does no lookup at all: the cost of Fastify and the socket write, nothing else.
// Listens on 127.0.0.1, a free port, and prints `baseline listening on http://127.0.0.1:PORT`.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const answers = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const app = Fastify({ logger: false });
// POX requests arrive as text/xml; read the body (as mailconf must) and ignore it.
app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

// One route per method + path; several scenarios share a path and differ in the query.
const byRoute = new Map();
for (const a of answers) {
  const path = a.url.split('?')[0];
  const key = `${a.method} ${path}`;
  if (!byRoute.has(key)) byRoute.set(key, { method: a.method, path, byUrl: new Map() });
  byRoute.get(key).byUrl.set(a.url, { status: a.status, type: a.contentType, body: Buffer.from(a.body, 'base64') });
}
for (const { method, path, byUrl } of byRoute.values()) {
  app.route({
    method,
    url: path,
    handler(req, reply) {
      const a = byUrl.get(req.url);
      if (a === undefined) return reply.code(500).send('baseline: no captured answer for this URL');
      return reply.code(a.status).header('content-type', a.type).send(a.body);
    },
  });
}

const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`baseline listening on ${address}`);
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
