// `npm start`: start-up wiring only. configuration -> directory -> templates and dialects
// -> HTTP app -> listen; each step that can fail stops start-up with its own message.
import { openServingDirectory } from './accounts/open.js';
import { configFromEnv } from './config/config.js';
import { createLogger } from './config/logger.js';
import { loadProvider } from './config/provider-file.js';
import { instanceSecret } from './config/secret.js';
import { createDialects } from './dialects/index.js';
import { buildApp } from './http/app.js';
import { Templates } from './templates.js';

/** How long, at most, shutdown keeps listening while every answer closes its connection. */
const DRAIN_MS = 1000;

async function main(): Promise<void> {
  const config = configFromEnv();
  const logger = createLogger(config.logLevel, config.logPretty);
  const profile = loadProvider(config.providerFile);
  const templates = new Templates();
  // Created once: an unusable key or certificate stops start-up here, never later.
  // The CMS libraries load only when profiles are signed.
  const profileSigner = config.mobileconfigSigning
    ? await (await import('./signing/profile-signer.js')).createProfileSigner(config.mobileconfigSigning)
    : undefined;
  if (profileSigner) {
    logger.info(`Apple profiles are signed as ${profileSigner.subject} (certificate valid until ${profileSigner.notAfter.toISOString()})`);
  }
  // PostgreSQL: a cache in front, kept true by the change feed (LISTEN/NOTIFY); SQLite: no cache.
  const serving = await openServingDirectory(config.directoryUrl, profile, {
    postgres: config.directory.postgres,
    cache: config.directory.cache,
    onFeedEvent: (event) => {
      if (event.kind === 'listening') {
        if (event.reconnected) logger.info('directory change feed listening again: the cache was cleared');
        return;
      }
      const line = `directory change feed lost (${event.reason}): lookups ask the database until it is back; retrying in ${event.retryInMs} ms`;
      if (event.first) logger.warn(line);
      else logger.debug(line);
    },
  });
  const { directory, seeded } = serving;
  if (seeded) logger.info(seeded, `new directory ${directory.description}: loaded the demo accounts`);
  // After opening: the SQLite file's folder, where the secret is kept, exists by now.
  const { secret, source, file } = instanceSecret(config.secret, config.directoryUrl);
  if (source === 'new-file') logger.info(`MAILCONF_SECRET is not set: made a random instance secret in ${file}`);
  if (source === 'process') {
    logger.warn('MAILCONF_SECRET is not set and no secret file can be kept: Apple profile ids and log hashes change at every restart');
  }
  const dialects = createDialects({ templates, profile, publicUrl: config.publicUrl, secret, signProfile: profileSigner?.sign });
  const readiness = { accepting: true };
  const app = await buildApp({ config, directory: serving.reader, directoryAdmin: serving.directory, profile, dialects, secret, readiness }, logger);
  await app.listen({ port: config.port, host: config.host });
  const counts = await directory.counts();
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  // What an operator checks first after a deploy: where it listens, what it serves from
  // (directory.description never shows a password), how clients reach it and who is trusted.
  const trust = config.trustProxy === false ? 'none' : config.trustProxy === true ? 'all' : typeof config.trustProxy === 'number' ? `${config.trustProxy} hop(s)` : config.trustProxy.join(',');
  const rateLimits = config.redisUrl ? 'shared in Redis' : 'per instance';
  // Whether /admin/ exists, and for how many holders: the names only, never a token.
  const adminApi = config.admin ? `on for ${config.admin.tokens.map((token) => token.name).join(', ')}` : 'off';
  logger.info(
    { ...counts, directory: directory.description, publicUrl: config.publicUrl.href, trustProxy: trust, rateLimits, provider: profile.id, adminApi },
    `mailconf listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}, ` +
      `serving ${counts.accounts} accounts and ${counts.domains} domains from ${directory.description}; ` +
      `public URL ${config.publicUrl.href}, trusted proxies: ${trust}, rate limits ${rateLimits}, provider ${profile.id}, admin API ${adminApi}`,
  );

  // Shutdown stops listening at once and answers every request already on its way (Fastify
  // return503OnClosing is off; Node closes idle connections). A client that is silent or
  // stalls mid-request would keep the process alive (and Node stops enforcing the request
  // deadlines once the server closes), so after SHUTDOWN_TIMEOUT every connection left is
  // closed: the process ends well within Fly's kill_timeout (fly.toml) whatever clients do.
  const stop = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    // First of all: the platform's readiness check stops sending traffic here, and every
    // answer now closes its connection. For a short drain the listener stays open, so a
    // keep-alive client's next request, on a new connection, is still answered; only then
    // is it closed (an idle keep-alive connection closed without warning can meet a request
    // already on its way, which the client then sees reset).
    readiness.accepting = false;
    // SHUTDOWN_TIMEOUT counts from the signal, drain included.
    const deadline = setTimeout(() => {
      logger.warn(`shutdown: closing the connections still open after ${config.shutdownTimeout} ms`);
      app.server.closeAllConnections();
    }, config.shutdownTimeout);
    // Should closing still hang (a hook that never returns), the process ends anyway.
    setTimeout(() => {
      logger.error('shutdown did not finish: exiting');
      process.exit(1);
    }, config.shutdownTimeout + 2000).unref();
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_MS, config.shutdownTimeout / 4)));
    await app.close();
    clearTimeout(deadline);
    await serving.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`mailconf: cannot start: ${err.message}\n`);
  process.exit(1);
});
