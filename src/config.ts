// Everything the service reads from its environment, checked once at start-up.

export interface Config {
  host: string;
  port: number;
  /** `sqlite:PATH` (the embedded default). */
  directoryUrl: string;
  /** Where clients reach the service; its host is one of the service's own names. */
  publicUrl: URL;
  /** The service's own host names: PUBLIC_URL's host plus SERVICE_HOSTS, lower-case. */
  serviceHosts: string[];
  rateLimit: { max: number; timeWindow: number | string };
  /** As Fastify's `trustProxy`: false, true, a hop count, or addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  logLevel: string;
  logPretty: boolean;
  /** A JSON file with provider facts laid over the built-in defaults. */
  providerFile: string | undefined;
}

export class ConfigError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_DIRECTORY = 'sqlite:./data/directory.db';

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

export function parseTrustProxy(raw: string | undefined): boolean | number | string[] {
  const text = raw?.trim() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '0.0.0.0';
  let publicUrl: URL;
  try {
    publicUrl = new URL(env.PUBLIC_URL || `http://localhost:${port}`);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute URL (got "${env.PUBLIC_URL}")`);
  }
  if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') {
    throw new ConfigError('PUBLIC_URL must be an http:// or https:// URL');
  }
  const serviceHosts = [publicUrl.hostname, ...(env.SERVICE_HOSTS ?? '').split(',')]
    .map((h) => h.trim().toLowerCase())
    .filter((h, i, all) => h !== '' && all.indexOf(h) === i);
  const directoryUrl = env.MAILCONF_DIRECTORY || DEFAULT_DIRECTORY;
  if (!directoryUrl.startsWith('sqlite:')) {
    throw new ConfigError(`MAILCONF_DIRECTORY must have the form sqlite:PATH (got "${directoryUrl}")`);
  }
  const window = env.RATE_LIMIT_WINDOW?.trim() || '1 minute';
  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    host,
    port,
    directoryUrl,
    publicUrl,
    serviceHosts,
    rateLimit: {
      max: integer(env, 'RATE_LIMIT_MAX', 120, 1, 1_000_000),
      timeWindow: /^\d+$/.test(window) ? Number(window) : window,
    },
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    logLevel,
    logPretty: env.LOG_FORMAT === 'pretty',
    providerFile: env.MAILCONF_PROVIDER || undefined,
  };
}
