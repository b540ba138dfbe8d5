// The baselines for `npm run bench`: a bare Fastify 5 server (no logger, no plugins) that
// sends, for each method + URL, the exact answer mailconf gave (status, content type, body
// bytes), captured by bench/compare.mjs and handed over in the file named by argv[2].
// It does no lookup at all: the cost of Fastify and the socket write, nothing else.
//
// With `--production` (argv[3]) it is the floor of mailconf's production settings: the
// same, plus what every mailconf answer costs before any lookup: a pino logger writing one
// JSON line per request to stdout (the fields mailconf's access log writes, in an
// onResponse hook, with Fastify's per-request child logger), and @fastify/rate-limit with
// its local store and mailconf's benchmark limits (1,000,000 per 10 s, never reached).
// Listens on 127.0.0.1, a free port, and prints `baseline listening on http://127.0.0.1:PORT`
// (before any log line: the log lines follow it on stdout).
import { readFileSync } from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';

const answers = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const production = process.argv[3] === '--production';
const app = production
  ? Fastify({ loggerInstance: pino({ level: 'info' }), logController: new LogController({ disableRequestLogging: true }) })
  : Fastify({ logger: false });
if (production) {
  await app.register(rateLimit, { max: 1_000_000, timeWindow: 10_000 });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, domain: 'her-shop.example', address: '0123456789ab' },
      'request',
    );
    done();
  });
}
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
