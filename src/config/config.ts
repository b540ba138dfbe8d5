// Everything the service and the CLI read from their environment, checked once at
// start-up: the only module that reads environment variables.
import proxyAddr from '@fastify/proxy-addr';
import type { CacheOptions } from '../directory/cached.js';
import type { PostgresOptions } from '../directory/postgres.js';
import { maskDirectoryUrl, parseDirectoryUrl } from '../directory/url.js';
import { hostName } from '../model/address.js';
import type { SigningFiles } from '../signing/pem.js';
import { adminTokenFromValue, combinedAdminTokens, readAdminTokensFile, type AdminToken } from './admin-tokens.js';
import { ConfigError } from './config-error.js';
import { SETTINGS, settingNamed, shownValue } from './declaration.js';

export interface Config {
  host: string;
  port: number;
  /** `sqlite:PATH` (the embedded default) or `postgres://...`; checked by directory/url.ts. */
  directoryUrl: string;
  /** The directory's settings: the PostgreSQL pool and the cache in front of it. */
  directory: DirectorySettings;
  /** ANSWER_CACHE_ENTRIES: finished answers kept (pipeline/answer-cache.ts); 0: none. */
  answerCacheEntries: number;
  /** Where clients reach the service; its host is one of the service's own names. */
  publicUrl: URL;
  /** The service's own host names: PUBLIC_URL's host plus SERVICE_HOSTS, lower-case. */
  serviceHosts: string[];
  /** Requests per client IP per window; the window in milliseconds. */
  rateLimit: { max: number; timeWindow: number };
  /** RATE_LIMIT_MISS_MAX: lookups of unhosted domains per client per window. */
  rateLimitMissMax: number;
  /** REDIS_URL: where the rate-limit counters are shared across instances; undefined: in each instance. */
  redisUrl: string | undefined;
  /** RATE_LIMIT_ALLOW: client addresses/CIDRs never limited. */
  rateLimitAllow: string[];
  /** As Fastify's `trustProxy`: false, true, a hop count, or addresses/CIDRs. */
  trustProxy: boolean | number | string[];
  /** What one client may hold open, times in milliseconds (applied by http/plugins/connections.ts). */
  connections: ConnectionLimits;
  /** After SIGTERM, how long (ms) open connections may take to finish before they are closed. */
  shutdownTimeout: number;
  /** Peers (besides loopback) that may read /metrics: addresses/CIDRs, as proxy-addr compiles them. */
  metricsAllow: string[];
  logLevel: string;
  logPretty: boolean;
  /** A JSON file with provider facts laid over the built-in defaults. */
  providerFile: string | undefined;
  /** MAILCONF_SECRET: keys log address hashes and Apple profile ids; unset: see config/secret.ts. */
  secret: string | undefined;
  /** PEM files that sign Apple profiles (MOBILECONFIG_CERT, _KEY, _CHAIN); undefined: unsigned. */
  mobileconfigSigning: MobileconfigSigningFiles | undefined;
  /** The admin API (http/admin/): undefined unless a token is configured, and then it does not exist. */
  admin: AdminApiSettings | undefined;
}

export interface AdminApiSettings {
  /** ADMIN_TOKEN and ADMIN_TOKENS_FILE's tokens, each with the name the log gives its holder. */
  tokens: readonly AdminToken[];
  /** ADMIN_RATE_LIMIT_MAX: admin requests per client per RATE_LIMIT_WINDOW, failed ones included. */
  rateLimitMax: number;
  /** ADMIN_IMPORT_MAX_SIZE: the largest import body, in bytes. */
  importMaxBytes: number;
}

export type MobileconfigSigningFiles = SigningFiles;

export interface DirectorySettings {
  postgres: PostgresOptions;
  cache: Omit<CacheOptions, 'now' | 'changes'>;
}

export interface ConnectionLimits {
  /** HEADERS_TIMEOUT: from a connection's first byte (or, silent, from its opening) to a complete request head. */
  headersTimeout: number;
  /** REQUEST_TIMEOUT: from a request's first byte to its last, body included. */
  requestTimeout: number;
  /** KEEP_ALIVE_TIMEOUT: how long a connection may sit idle between requests. */
  keepAliveTimeout: number;
  /** MAX_CONNECTIONS_PER_CLIENT: open connections per client address (IPv6: per /64), trusted proxies aside. */
  maxPerClient: number;
}

export { ConfigError };

/** Reads a declared variable (config/declaration.ts); an empty value counts as unset. */
type Read = (name: string) => string | undefined;

function declaredReader(env: NodeJS.ProcessEnv): Read {
  return (name) => {
    settingNamed(name);
    const value = env[name];
    return value === '' ? undefined : value;
  };
}

/**
 * Collects every bad value instead of stopping at the first, so an operator fixes the
 * whole configuration in one go: one line per problem.
 */
class Problems {
  private readonly found: string[] = [];

  /** `parse()`, or `fallback` with the problem noted when it throws a ConfigError. */
  check<T>(fallback: T, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.found.push(err.message);
      return fallback;
    }
  }

  throwIfAny(): void {
    if (this.found.length === 1) throw new ConfigError(this.found[0]);
    if (this.found.length > 1) throw new ConfigError(`${this.found.length} problems in the configuration:\n${this.found.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const DEFAULT_DIRECTORY = 'sqlite:./data/directory.db';

function integer(read: Read, name: string, fallback: number, min: number, max: number): number {
  const raw = read(name);
  if (raw === undefined) return fallback;
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
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    proxyAddr.compile(list); // what Fastify will do with it: fail here, with our words
  } catch (err) {
    throw new ConfigError(`TRUST_PROXY must be true, a hop count, or addresses/CIDRs (${(err as Error).message})`);
  }
  return list;
}

/** REDIS_URL: a redis:// or rediss:// URL. */
function redisUrlFrom(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL');
  }
  return raw;
}

/** A comma-separated list of addresses/CIDRs, checked as proxy-addr will compile it. */
function addressList(raw: string | undefined, name: string): string[] {
  const list = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    proxyAddr.compile(list);
  } catch (err) {
    throw new ConfigError(`${name} must be comma-separated addresses or CIDRs (${(err as Error).message})`);
  }
  return list;
}

/** MAILCONF_SECRET's shortest accepted length. */
export const MIN_SECRET_LENGTH = 16;

/**
 * MOBILECONFIG_CERT and MOBILECONFIG_KEY go together (and MOBILECONFIG_CHAIN needs them):
 * a half-configured signer is an error, never a silent fall-back to unsigned profiles.
 */
function mobileconfigSigning(read: Read): MobileconfigSigningFiles | undefined {
  const certFile = read('MOBILECONFIG_CERT');
  const keyFile = read('MOBILECONFIG_KEY');
  const chainFile = read('MOBILECONFIG_CHAIN');
  if (!certFile && !keyFile) {
    if (chainFile) throw new ConfigError('MOBILECONFIG_CHAIN is set but MOBILECONFIG_CERT and MOBILECONFIG_KEY are not');
    return undefined;
  }
  if (!certFile) throw new ConfigError('MOBILECONFIG_KEY is set but MOBILECONFIG_CERT is not: set both to sign Apple profiles, or neither');
  if (!keyFile) throw new ConfigError('MOBILECONFIG_CERT is set but MOBILECONFIG_KEY is not: set both to sign Apple profiles, or neither');
  return { certFile, keyFile, chainFile };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration: milliseconds, or a count and a unit (`30 seconds`, `1 minute`, `2h`); `fallback` when unset. */
function parseDuration(raw: string | undefined, name: string, fallback: string, max = Infinity): number {
  const text = raw?.trim().toLowerCase() || fallback;
  const match = /^(\d+)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?$/.exec(text);
  const unit = match?.[2] === undefined ? 'ms' : match[2].startsWith('ms') || match[2].startsWith('milli') ? 'ms' : match[2][0]!;
  const ms = match ? Number(match[1]) * UNIT_MS[unit]! : 0;
  if (ms <= 0 || ms > max) {
    const range = max === Infinity ? '' : ` from 1 ms to ${max / 60_000} minutes`;
    throw new ConfigError(`${name} must be milliseconds or a count and a unit such as "30 seconds"${range} (got "${raw}")`);
  }
  return ms;
}

/** RATE_LIMIT_WINDOW: milliseconds, or a count and a unit (`30 seconds`, `1 minute`, `2h`). */
export function parseWindow(raw: string | undefined): number {
  return parseDuration(raw, 'RATE_LIMIT_WINDOW', '1 minute');
}

const DEFAULT_LIMITS: ConnectionLimits = { headersTimeout: 10_000, requestTimeout: 20_000, keepAliveTimeout: 5_000, maxPerClient: 64 };

/** The longest accepted connection phase or shutdown deadline: every phase is bounded to minutes at most. */
const MAX_PHASE_MS = 10 * 60_000;

/**
 * The bounds on each phase of a connection (Node's http.Server headersTimeout,
 * requestTimeout and keepAliveTimeout) and the per-client connection cap. Node refuses a
 * headersTimeout longer than the requestTimeout; so do we, in our words.
 */
function connectionLimits(read: Read): ConnectionLimits {
  const headersTimeout = parseDuration(read('HEADERS_TIMEOUT'), 'HEADERS_TIMEOUT', '10 seconds', MAX_PHASE_MS);
  const requestTimeout = parseDuration(read('REQUEST_TIMEOUT'), 'REQUEST_TIMEOUT', '20 seconds', MAX_PHASE_MS);
  if (headersTimeout > requestTimeout) {
    throw new ConfigError(`HEADERS_TIMEOUT (${headersTimeout} ms) must not be longer than REQUEST_TIMEOUT (${requestTimeout} ms)`);
  }
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: parseDuration(read('KEEP_ALIVE_TIMEOUT'), 'KEEP_ALIVE_TIMEOUT', '5 seconds', MAX_PHASE_MS),
    maxPerClient: integer(read, 'MAX_CONNECTIONS_PER_CLIENT', 64, 1, 100_000),
  };
}

/**
 * Where clients reach the service (PUBLIC_URL, or the CLI's --public-url, named `name` in
 * messages): an absolute http(s) URL without credentials, query or fragment.
 */
export function parsePublicUrl(raw: string, name = 'PUBLIC_URL'): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} must be an absolute URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http:// or https:// URL`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must not carry credentials, a query or a fragment`);
  }
  return url;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size: bytes, or a count and a unit (`64 MB`, `1GB`; binary: 1 MB = 1,048,576 bytes). */
export function parseSize(raw: string | undefined, name: string, fallback: string, max: number): number {
  const text = (raw?.trim() || fallback).toLowerCase();
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/.exec(text);
  const bytes = match ? Number(match[1]) * SIZE_UNITS[match[2] ?? '']! : 0;
  if (bytes <= 0 || bytes > max) {
    throw new ConfigError(`${name} must be bytes or a count and a unit such as "64 MB", at most ${max / 1024 ** 3} GB (got "${raw}")`);
  }
  return bytes;
}

/**
 * The admin API's settings: on only when ADMIN_TOKEN or ADMIN_TOKENS_FILE gives a token
 * (each at least 32 characters); its limits are read only then.
 */
function adminApiSettings(read: Read, problems: Problems): AdminApiSettings | undefined {
  const value = read('ADMIN_TOKEN');
  const file = read('ADMIN_TOKENS_FILE');
  const fromValue = value === undefined ? undefined : problems.check(undefined, () => adminTokenFromValue(value));
  const fromFile = file === undefined ? [] : problems.check([], () => readAdminTokensFile(file));
  const tokens = problems.check([], () => combinedAdminTokens(fromValue, fromFile));
  const rateLimitMax = problems.check(300, () => integer(read, 'ADMIN_RATE_LIMIT_MAX', 300, 1, 1_000_000));
  const importMaxBytes = problems.check(0, () => parseSize(read('ADMIN_IMPORT_MAX_SIZE'), 'ADMIN_IMPORT_MAX_SIZE', '256 MB', 16 * 1024 ** 3));
  return tokens.length === 0 ? undefined : { tokens, rateLimitMax, importMaxBytes };
}

/** MAILCONF_DIRECTORY (or the CLI's --directory), checked by the one directory URL reader. */
function directoryUrlFrom(url: string): string {
  try {
    parseDirectoryUrl(url);
  } catch {
    // Its DirectoryError speaks of "the directory"; the operator set MAILCONF_DIRECTORY.
    throw new ConfigError(`MAILCONF_DIRECTORY must have the form sqlite:PATH or postgres://USER@HOST/DB (got "${maskDirectoryUrl(url)}")`);
  }
  return url;
}

/** The PostgreSQL pool and the cache, from their declared variables. */
function directorySettings(read: Read, problems: Problems): DirectorySettings {
  const duration = (name: string, fallback: string, ms: number, allowZero = false) =>
    problems.check(ms, () => (allowZero && read(name)?.trim() === '0' ? 0 : parseDuration(read(name), name, fallback, 24 * 3_600_000)));
  return {
    postgres: {
      poolSize: problems.check(10, () => integer(read, 'DIRECTORY_POOL_SIZE', 10, 1, 1000)),
      connectTimeoutMs: duration('DIRECTORY_CONNECT_TIMEOUT', '5 seconds', 5_000),
      statementTimeoutMs: duration('DIRECTORY_STATEMENT_TIMEOUT', '2 seconds', 2_000, true),
    },
    cache: {
      maxEntries: problems.check(20_000, () => integer(read, 'CACHE_MAX_ENTRIES', 20_000, 1, 100_000_000)),
      maxNegativeEntries: problems.check(5000, () => integer(read, 'CACHE_NEGATIVE_MAX_ENTRIES', 5000, 1, 100_000_000)),
      ttlMs: duration('CACHE_TTL', '1 minute', 60_000),
      negativeTtlMs: duration('CACHE_NEGATIVE_TTL', '10 seconds', 10_000),
      maxStaleMs: duration('CACHE_MAX_STALE', '10 minutes', 600_000),
    },
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const read = declaredReader(env);
  const problems = new Problems();
  const port = problems.check(8080, () => integer(read, 'PORT', 8080, 0, 65535));
  const host = read('HOST') ?? '0.0.0.0';
  const publicUrl = problems.check(new URL(`http://localhost:${port}`), () => parsePublicUrl(read('PUBLIC_URL') ?? `http://localhost:${port}`));
  const serviceHosts = [publicUrl.hostname, ...(read('SERVICE_HOSTS') ?? '').split(',')]
    .map((h) => hostName(h))
    .filter((h, i, all) => h !== '' && all.indexOf(h) === i);
  const directoryUrl = problems.check(DEFAULT_DIRECTORY, () => directoryUrlFrom(read('MAILCONF_DIRECTORY') ?? DEFAULT_DIRECTORY));
  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  problems.check(undefined, () => {
    if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  });
  const config: Config = {
    host,
    port,
    directoryUrl,
    directory: directorySettings(read, problems),
    publicUrl,
    serviceHosts,
    rateLimit: {
      max: problems.check(120, () => integer(read, 'RATE_LIMIT_MAX', 120, 1, 1_000_000)),
      timeWindow: problems.check(60_000, () => parseWindow(read('RATE_LIMIT_WINDOW'))),
    },
    rateLimitMissMax: problems.check(30, () => integer(read, 'RATE_LIMIT_MISS_MAX', 30, 1, 1_000_000)),
    answerCacheEntries: problems.check(1000, () => integer(read, 'ANSWER_CACHE_ENTRIES', 1000, 0, 1_000_000)),
    redisUrl: problems.check(undefined, () => redisUrlFrom(read('REDIS_URL'))),
    rateLimitAllow: problems.check([], () => addressList(read('RATE_LIMIT_ALLOW'), 'RATE_LIMIT_ALLOW')),
    trustProxy: problems.check(false, () => parseTrustProxy(read('TRUST_PROXY'))),
    connections: problems.check(DEFAULT_LIMITS, () => connectionLimits(read)),
    shutdownTimeout: problems.check(5_000, () => parseDuration(read('SHUTDOWN_TIMEOUT'), 'SHUTDOWN_TIMEOUT', '5 seconds', MAX_PHASE_MS)),
    metricsAllow: problems.check([], () => addressList(read('METRICS_ALLOW'), 'METRICS_ALLOW')),
    logLevel,
    logPretty: read('LOG_FORMAT') === 'pretty',
    providerFile: read('MAILCONF_PROVIDER'),
    secret: problems.check(undefined, () => secretFromEnv(read)),
    mobileconfigSigning: problems.check(undefined, () => mobileconfigSigning(read)),
    admin: adminApiSettings(read, problems),
  };
  problems.throwIfAny();
  return config;
}

/** MAILCONF_SECRET when set (and long enough); undefined otherwise. */
function secretFromEnv(read: Read): string | undefined {
  const secret = read('MAILCONF_SECRET');
  if (secret === undefined) return undefined;
  if (secret.trim().length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`MAILCONF_SECRET must be at least ${MIN_SECRET_LENGTH} characters (for example: openssl rand -hex 32)`);
  }
  return secret;
}

/** What a `mailconf` command reads: its options first, then the environment. */
export interface CliConfig {
  directoryUrl: string;
  /** The PostgreSQL pool settings (the CLI uses no cache). */
  postgres: PostgresOptions;
  providerFile: string | undefined;
  /** --public-url, else PUBLIC_URL; undefined when neither is set (only `dns` needs it). */
  publicUrl: string | undefined;
}

/** The pool settings for a command; a bad value is a ConfigError, as at start-up. */
function cliPostgres(read: Read): PostgresOptions {
  const problems = new Problems();
  const { postgres } = directorySettings(read, problems);
  problems.throwIfAny();
  return postgres;
}

export function cliConfig(
  env: NodeJS.ProcessEnv,
  options: { directory?: string | undefined; provider?: string | undefined; publicUrl?: string | undefined },
): CliConfig {
  const read = declaredReader(env);
  const publicUrl = options.publicUrl ?? read('PUBLIC_URL');
  return {
    // Not checked here: a wrong URL is reported by the command that opens it (exit 1).
    directoryUrl: options.directory ?? read('MAILCONF_DIRECTORY') ?? DEFAULT_DIRECTORY,
    postgres: cliPostgres(read),
    providerFile: options.provider ?? read('MAILCONF_PROVIDER'),
    publicUrl: publicUrl === undefined || publicUrl.trim() === '' ? undefined : publicUrl,
  };
}

/** One variable as `mailconf config` shows it: its value in effect (masked) and where it came from. */
export interface ShownSetting {
  name: string;
  value: string;
  source: 'environment' | 'default';
}

/**
 * Every declared variable with the value in effect, secrets masked, and the problems
 * start-up would stop on (empty when the configuration is usable).
 */
export function describeConfig(env: NodeJS.ProcessEnv): { settings: ShownSetting[]; problems: string[] } {
  const read = declaredReader(env);
  const settings = SETTINGS.map((setting): ShownSetting => {
    const raw = read(setting.name);
    if (raw !== undefined) return { name: setting.name, value: shownValue(setting, raw), source: 'environment' };
    const fallback = setting.default;
    return { name: setting.name, value: fallback === undefined ? '(unset)' : typeof fallback === 'string' ? fallback : `(${fallback.words})`, source: 'default' };
  });
  try {
    configFromEnv(env);
    return { settings, problems: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const lines = err.message.split('\n');
    return { settings, problems: lines.length > 1 ? lines.slice(1).map((l) => l.replace(/^\s*- /, '')) : lines };
  }
}
