// Every environment variable the service and the CLI read, declared once: its name, the
// default as people read it, what it means, and whether it is a secret. config.ts reads
// only declared names; the README's configuration table and `mailconf config` are made
// from this list (test/config-docs.test.ts keeps the README in step).
import { maskDirectoryUrl } from '../directory/url.js';

export interface Setting {
  name: string;
  /** The default: a literal value (shown as code), words (`{ words }`), or undefined for none. */
  default: string | { words: string } | undefined;
  /** What it does, in the README's words (Markdown). */
  meaning: string;
  /** Secrets and URLs that may carry a password are masked whenever they are shown. */
  secret?: 'whole' | 'url-password';
  /** Shown in the README's row of another setting (one row for several closely tied names). */
  sameRowAs?: string;
}

export const SETTINGS: readonly Setting[] = Object.freeze([
  { name: 'PORT', default: '8080', meaning: 'where the service listens' },
  { name: 'HOST', default: '0.0.0.0', meaning: 'where the service listens', sameRowAs: 'PORT' },
  {
    name: 'MAILCONF_DIRECTORY',
    default: 'sqlite:./data/directory.db',
    meaning:
      'the account directory: `sqlite:PATH` (embedded; a missing file is created and seeded with `data/demo.json`) or ' +
      '`postgres://USER:PASSWORD@HOST/DB` (shared by every instance; `npx mailconf migrate` creates its schema; needs `MAILCONF_SECRET`). ' +
      'Shown anywhere with its password masked.',
    secret: 'url-password',
  },
  {
    name: 'DIRECTORY_POOL_SIZE',
    default: '10',
    meaning: 'PostgreSQL: connections each instance keeps to the database',
  },
  {
    name: 'DIRECTORY_CONNECT_TIMEOUT',
    default: '5 seconds',
    meaning: 'PostgreSQL: how long a lookup may wait for a connection, connecting included',
  },
  {
    name: 'DIRECTORY_STATEMENT_TIMEOUT',
    default: '2 seconds',
    meaning:
      'PostgreSQL: the database cancels a lookup that runs longer, and the service gives up by itself 1 s later when the database does not answer at all; ' +
      'the answer is then a cached one (below) or the degraded one (503, POX 603). `0` means no limit.',
  },
  {
    name: 'CACHE_MAX_ENTRIES',
    default: '20000',
    meaning:
      'PostgreSQL: answers cached per instance, about 750 bytes each (found ones; unknown names are kept apart, `CACHE_NEGATIVE_MAX_ENTRIES`). ' +
      'A change through any instance or `mailconf import` anywhere reaches every instance within a second (PostgreSQL `LISTEN/NOTIFY`). ' +
      'The embedded SQLite directory has no such cache: its lookups are index probes in the process, and it remembers its last 2,000 only until anything is written (SQLite `PRAGMA data_version`).',
  },
  { name: 'CACHE_NEGATIVE_MAX_ENTRIES', default: '5000', meaning: '', sameRowAs: 'CACHE_MAX_ENTRIES' },
  {
    name: 'CACHE_TTL',
    default: '1 minute',
    meaning:
      'how long a cached answer is used before it is asked again (`CACHE_NEGATIVE_TTL` for "unknown domain"); while the database does not answer, ' +
      'cached answers keep being served up to `CACHE_MAX_STALE` old, uncached lookups get 503 (POX 603), never a guessed host.',
  },
  { name: 'CACHE_NEGATIVE_TTL', default: '10 seconds', meaning: '', sameRowAs: 'CACHE_TTL' },
  { name: 'CACHE_MAX_STALE', default: '10 minutes', meaning: '', sameRowAs: 'CACHE_TTL' },
  {
    name: 'ANSWER_CACHE_ENTRIES',
    default: '1000',
    meaning:
      'finished answers kept per instance (about 4.5 KB each), so a repeated question skips the policy and the rendering; `0` turns it off. ' +
      'The directory is still asked every time, and an answer is kept under everything it is made from (the account, the stored login, the address as typed), ' +
      'so a change in the directory changes the next answer at once.',
  },
  {
    name: 'PUBLIC_URL',
    default: 'http://localhost:$PORT',
    meaning:
      "the URL clients reach the service at (no credentials, query or fragment: start-up refuses them); its host is one of the service's own names. " +
      'The autodiscover JSON pointer sends Outlook there. With an `https://` URL, autodiscover (POX) asked over plain HTTP is redirected there (302). ' +
      'Behind a TLS-terminating proxy, set `TRUST_PROXY`: otherwise every request looks like plain HTTP and Outlook and Thunderbird are sent round a redirect loop.',
  },
  {
    name: 'SERVICE_HOSTS',
    default: { words: "`autoconfig.` of each MX base domain in the provider profile: `autoconfig.pair.com`, `autoconfig.pairserver.com`" },
    meaning:
      "more of the service's own host names, comma-separated. The MX-based names are always included: a client that finds no `autoconfig.<customer domain>` " +
      "looks up the domain's MX host (`alice.mail.pairserver.com`), takes its base domain by the Public Suffix List (`pairserver.com`) and asks " +
      '`https://autoconfig.<base>/mail/config-v1.1.xml?emailaddress=<address>` (Thunderbird; Thunderbird for Android without the address, which then gets `404`). ' +
      'They come from `mxHosts` in the provider profile (an empty list drops them); point them at the service and give them certificates (`/tls-allowed` says yes to them). ' +
      'See docs/autoconfig-draft.md.',
  },
  { name: 'MAILCONF_PROVIDER', default: { words: 'built-in pair.com profile' }, meaning: 'a JSON file whose fields replace the provider defaults (see below)' },
  {
    name: 'RATE_LIMIT_MAX',
    default: '120',
    meaning:
      'requests per client per window (milliseconds or text such as `30 seconds`). A client is an IPv4 address, or an IPv6 /64. ' +
      'Every answer counts, in the order the requests arrived (pipelined ones too): lookups, `404`, `405`, `414` and `400` alike. ' +
      "`/healthz` is exempt, and so are the TLS terminator's own `/tls-allowed` asks (see the endpoint table). " +
      'A value that is neither stops start-up. One account set-up costs a client about 4–10 requests.',
  },
  { name: 'RATE_LIMIT_WINDOW', default: '1 minute', meaning: '', sameRowAs: 'RATE_LIMIT_MAX' },
  {
    name: 'RATE_LIMIT_MISS_MAX',
    default: '30',
    meaning:
      'lookups per client per window that find no hosted domain (what scanners produce; a real client makes a few). Past it those answers are `429`; ' +
      'lookups of hosted domains go on within `RATE_LIMIT_MAX`.',
  },
  {
    name: 'REDIS_URL',
    default: { words: 'counters in each instance' },
    meaning:
      '`redis://` or `rediss://` URL: rate-limit counters live in Redis, so limits hold across every instance. ' +
      'When Redis cannot be reached the service keeps answering and counts per instance until it is back (logged once a minute, shown in `/metrics` and on `/readyz`).',
    secret: 'url-password',
  },
  {
    name: 'RATE_LIMIT_ALLOW',
    default: undefined,
    meaning: "comma-separated client addresses/CIDRs that are never rate-limited (the provider's office NAT, its support desk)",
  },
  {
    name: 'TRUST_PROXY',
    default: { words: 'off' },
    meaning:
      'take the client IP from `X-Forwarded-For`: `true`, a hop count, or comma-separated addresses/CIDRs of your proxies ' +
      "(as Fastify's `trustProxy`, except that a hop count keeps its classic meaning, the n nearest hops, where Fastify 5.12 would trust nothing). " +
      'An unreadable list stops start-up. On Fly.io use `1`: Fly appends the real client address, and entries to its left are whatever the client wrote. ' +
      "The same proxies' `X-Forwarded-Proto` (and `Fly-Forwarded-Proto`) tell the service whether the client used HTTPS.",
  },
  {
    name: 'HEADERS_TIMEOUT',
    default: '10 seconds',
    meaning:
      "how long a client may take to send a request's head, and the whole request with its body, counted from its first byte however steadily it trickles in " +
      "(Node's `headersTimeout` and `requestTimeout`); then it gets `408` and the connection is closed. " +
      'A connection that stays silent for `HEADERS_TIMEOUT`, before its first request or in the middle of one, is closed. ' +
      'Milliseconds or text, at most 10 minutes; `HEADERS_TIMEOUT` may not exceed `REQUEST_TIMEOUT`.',
  },
  { name: 'REQUEST_TIMEOUT', default: '20 seconds', meaning: '', sameRowAs: 'HEADERS_TIMEOUT' },
  {
    name: 'KEEP_ALIVE_TIMEOUT',
    default: '5 seconds',
    meaning:
      'how long a connection may sit idle between requests. A proxy in front that keeps idle connections to the service ' +
      '(Caddy does, for 2 minutes) should drop them sooner: see the Caddy example below.',
  },
  {
    name: 'MAX_CONNECTIONS_PER_CLIENT',
    default: '64',
    meaning:
      "open connections per client address (IPv6: per /64). A mail client opens one per name it probes (Thunderbird, running through the test suite's " +
      'account set-ups one after another, held up to 37 at once). More are refused at once and logged (a warning, then at most one summary line every 10 s). ' +
      'The peers `TRUST_PROXY` names are not capped: they carry every client. Behind a proxy, set `TRUST_PROXY`, or the proxy is one capped client.',
  },
  {
    name: 'SHUTDOWN_TIMEOUT',
    default: '5 seconds',
    meaning:
      'after `SIGTERM`, new connections are refused and the requests already on their way are answered (never with `503`); ' +
      'connections still open after this long (silent or stalled clients) are closed and the process exits. ' +
      "Keep it below the platform's kill timeout (Fly: `kill_timeout` in `fly.toml`).",
  },
  {
    name: 'MAILCONF_SECRET',
    default: { words: 'a random secret made on first start and kept beside the SQLite file (`<directory>.secret`, mode 0600)' },
    meaning:
      "at least 16 characters (`openssl rand -hex 32`). Keys the HMACs behind the address hash in the logs and each address's Apple profile identifier and UUIDs, " +
      'so they are stable, cannot be guessed, and do not reveal the address. Set it when several instances must agree (required with a shared directory); ' +
      'changing it makes re-downloaded profiles install next to the old ones instead of replacing them. ' +
      'Without it and without a writable directory folder, a per-process secret is used (warning at start-up).',
    secret: 'whole',
  },
  {
    name: 'MOBILECONFIG_CERT',
    default: { words: 'unset: profiles go unsigned' },
    meaning:
      'PEM files: the certificate that signs Apple profiles (further certificates in the file, as in `fullchain.pem`, are sent as its chain) ' +
      'and its unencrypted private key (RSA ≥ 2048 bits or ECDSA). Set both or neither. An unreadable, unparsable, mismatched, encrypted, ' +
      'expired or not-yet-valid certificate or key stops start-up; the service never falls back to unsigned profiles.',
  },
  { name: 'MOBILECONFIG_KEY', default: undefined, meaning: '', sameRowAs: 'MOBILECONFIG_CERT' },
  { name: 'MOBILECONFIG_CHAIN', default: undefined, meaning: 'optional PEM bundle of intermediate certificates sent with each signature' },
  {
    name: 'METRICS_ALLOW',
    default: { words: 'loopback only' },
    meaning:
      'comma-separated addresses/CIDRs (besides loopback) that may read `/metrics`, judged by the connecting peer, never by a forwarded header ' +
      "(on Fly.io the scraper reaches the machine over its private network: `fdaa::/16`). Everyone else gets `404`. Scrapes from these are not rate-limited.",
  },
  {
    name: 'ADMIN_TOKEN',
    default: { words: 'unset: no admin API' },
    meaning:
      "a bearer token (RFC 6750) for the admin API under `/admin/` that the provider's own systems change accounts through; " +
      'at least 32 characters of letters, digits and `-._~+/` (`openssl rand -hex 32`), else start-up stops. ' +
      'Without it and without `ADMIN_TOKENS_FILE` nothing answers under `/admin/` (`404`, as any unknown path). ' +
      "The API answers only over HTTPS or from loopback, only on `PUBLIC_URL`'s host, `localhost` and IP addresses (never on a customer's name), " +
      'and logs every change with the name of the token used (this one is `ADMIN_TOKEN`), never the token.',
    secret: 'whole',
  },
  {
    name: 'ADMIN_TOKENS_FILE',
    default: undefined,
    meaning:
      'a file of named admin tokens, one `name token` per line (`#` starts a comment line), so that the log says who changed what: ' +
      'names of letters, digits and `._@-`, tokens as for `ADMIN_TOKEN`, each unique. Read at start-up; a bad line stops it, named by its number.',
  },
  {
    name: 'ADMIN_RATE_LIMIT_MAX',
    default: '300',
    meaning:
      "admin API requests per client per `RATE_LIMIT_WINDOW`, counted apart from the customers' `RATE_LIMIT_MAX` (refused authentications count; `RATE_LIMIT_ALLOW` does not apply); then `429`. " +
      'Enough for one change at a time as it happens; a batch goes in one `POST /admin/import`.',
  },
  {
    name: 'ADMIN_IMPORT_MAX_SIZE',
    default: '256 MB',
    meaning:
      'the largest body `POST /admin/import` takes (bytes, or a count and `KB`, `MB`, `GB`, binary); a larger one is refused with `413`. ' +
      'The body is read as it arrives, never held whole; it must arrive within `REQUEST_TIMEOUT`.',
  },
  { name: 'LOG_LEVEL', default: 'info', meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`' },
  { name: 'LOG_FORMAT', default: { words: 'JSON lines' }, meaning: '`pretty` for human-readable logs' },
] satisfies Setting[]);

const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));

/** The declaration of `name`; reading an undeclared variable is a programming error. */
export function settingNamed(name: string): Setting {
  const setting = BY_NAME.get(name);
  if (!setting) throw new Error(`environment variable ${name} is not declared in config/declaration.ts`);
  return setting;
}

/** `value` as it may be shown: secrets replaced, passwords in URLs masked (directory/url.ts's one rule). */
export function shownValue(setting: Setting, value: string): string {
  if (setting.secret === 'whole') return '***';
  if (setting.secret === 'url-password') return maskDirectoryUrl(value);
  return value;
}

/** The README's configuration table, one row per setting (tied names share a row). */
export function configTable(): string {
  const rows = SETTINGS.filter((s) => !s.sameRowAs).map((s) => {
    const tied = [s, ...SETTINGS.filter((o) => o.sameRowAs === s.name)];
    const names = tied.map((o) => `\`${o.name}\``).join(', ');
    const shown = tied.map((o) => o.default).filter((d) => d !== undefined);
    const defaults = shown.length === 0 ? '–' : shown.map((d) => (typeof d === 'string' ? `\`${d}\`` : d.words)).join(', ');
    return `| ${names} | ${defaults} | ${s.meaning} |`;
  });
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
