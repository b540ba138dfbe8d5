// `npm start`: configuration -> directory -> renderers -> HTTP app -> listen.
import { configFromEnv } from './config.js';
import { openDirectory } from './directory/open.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logger.js';
import { loadProvider } from './provider.js';
import { createProfileSigner } from './render/profile-signer.js';
import { createRenderers } from './render/renderers.js';
import { instanceSecret } from './secret.js';

async function main(): Promise<void> {
  const config = configFromEnv();
  const logger = createLogger(config.logLevel, config.logPretty);
  const profile = loadProvider(config.providerFile);
  const renderers = createRenderers();
  // Created once: an unusable key or certificate stops start-up here, never later.
  const profileSigner = config.mobileconfigSigning ? await createProfileSigner(config.mobileconfigSigning) : undefined;
  if (profileSigner) {
    logger.info(`Apple profiles are signed as ${profileSigner.subject} (certificate valid until ${profileSigner.notAfter.toISOString()})`);
  }
  const { directory, seeded } = await openDirectory(config.directoryUrl, 'load-demo', profile);
  if (seeded) logger.info(seeded, `new directory ${directory.description}: loaded the demo accounts`);
  const { secret, source, file } = instanceSecret(config.secret, config.directoryUrl);
  if (source === 'new-file') logger.info(`MAILCONF_SECRET is not set: made a random instance secret in ${file}`);
  if (source === 'process') {
    logger.warn('MAILCONF_SECRET is not set and no secret file can be kept: Apple profile ids and log hashes change at every restart');
  }
  const app = await buildApp({ config, directory, profile, renderers, profileSigner, secret }, logger);
  await app.listen({ port: config.port, host: config.host });
  const counts = await directory.counts();
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.port;
  logger.info(
    { ...counts, directory: directory.description },
    `mailconf listening on http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}, ` +
      `serving ${counts.accounts} accounts and ${counts.domains} domains from ${directory.description}`,
  );

  const stop = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    await app.close();
    await directory.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`mailconf: cannot start: ${err.message}\n`);
  process.exit(1);
});
