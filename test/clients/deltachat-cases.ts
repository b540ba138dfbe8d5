// The Delta Chat suite's cases, its hosts file and its TLS pins: which address is set up,
// which of our URLs must answer (the earlier ones are made to fail in the front), which
// mail ports are closed (the STARTTLS fallback), and what the core must end up logging in
// to. The accounts are the Thunderbird suite's (fixtures.ts).
import { CLIENT_CASES, SERVICE_HOST } from './fixtures.js';
import type { HostsEntries } from './netns.js';
import type { MailConnection, MailProtocol, TlsMode } from './mail-standin.js';
import type { RecordedRequest } from './service.js';

/** The four URLs Delta Chat's configure tries on our service, in its order (then the ISPDB). */
export type DcSource = 'autoconfig' | 'well-known' | 'autodiscover-domain' | 'autodiscover-host';
export const DC_SOURCES: DcSource[] = ['autoconfig', 'well-known', 'autodiscover-domain', 'autodiscover-host'];

/** The URL of `source` for `email`, as the core writes it (`-` is encoded, `.` is not). */
export function sourceUrl(source: DcSource, email: string): string {
  const d = email.slice(email.indexOf('@') + 1);
  const encoded = email.replace(/[^A-Za-z0-9.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  switch (source) {
    case 'autoconfig':
      return `https://autoconfig.${d}/mail/config-v1.1.xml?emailaddress=${encoded}`;
    case 'well-known':
      return `https://${d}/.well-known/autoconfig/mail/config-v1.1.xml`;
    case 'autodiscover-domain':
      return `https://${d}/autodiscover/autodiscover.xml`;
    case 'autodiscover-host':
      return `https://autodiscover.${d}/autodiscover/autodiscover.xml`;
  }
}

export interface DcServer {
  protocol: MailProtocol;
  host: string;
  port: number;
  tlsMode: TlsMode;
  login: string;
}

export interface DcCase {
  email: string;
  label: string;
  /** The URL that must serve the answer: every earlier one fails in the front. */
  source: DcSource;
  /** Closed ports on the expected host (the core must fall back to the next server). */
  closedPorts?: number[];
  /** What the core logs in to, or null: configure fails and no mail host is reached. */
  expect: { imap: DcServer; smtp: DcServer } | null;
}

const expected = (email: string) => {
  const c = CLIENT_CASES.find((x) => x.email === email);
  if (!c?.expect) throw new Error(`no client case for ${email}`);
  return c.expect;
};

function ok(email: string, label: string, source: DcSource, opts: { login?: string; starttls?: boolean } = {}): DcCase {
  const { host, login: fixtureLogin } = expected(email);
  const login = opts.login ?? fixtureLogin;
  const [imapPort, smtpPort, tlsMode]: [number, number, TlsMode] = opts.starttls ? [143, 587, 'starttls'] : [993, 465, 'implicit'];
  return {
    email,
    label,
    source,
    ...(opts.starttls ? { closedPorts: [993, 465] } : {}),
    expect: {
      imap: { protocol: 'imap', host, port: imapPort, tlsMode, login },
      smtp: { protocol: 'smtp', host, port: smtpPort, tlsMode, login },
    },
  };
}

export const DC_CASES: DcCase[] = [
  ok('jane@oldtimer-shop.example', 'old era', 'autoconfig'),
  ok('jane@her-shop.example', 'new era', 'autoconfig'),
  ok('info@lastday.example', 'last second before the era cut-off (New York)', 'autoconfig'),
  ok('info@firstday.example', 'first second of the era cut-off day (New York)', 'autoconfig'),
  ok('sales@oldtimer-shop.example', 'per-mailbox login', 'autoconfig'),
  ok('plainpair@pair.com', 'account-named domain: bare username', 'autoconfig'),
  ok('pairuser@pair.com', 'account-named domain, per-mailbox login', 'autoconfig'),
  ok('info@datelast.example', '.well-known on the domain (autoconfig.<d> fails)', 'well-known'),
  ok('info@datefirst.example', 'Outlook GET on the domain (both autoconfig URLs fail)', 'autodiscover-domain'),
  // The GET carries no address, so the answer has the domain's host and no LoginName (POX
  // LoginName is ignored by the core anyway): Delta Chat logs in with the address, not with
  // the per-mailbox login that autoconfig (asked first) gives.
  ok('sales@oldtimer-shop.example', 'Outlook GET on autodiscover.<d> (every earlier URL fails): login is the address', 'autodiscover-host', { login: 'sales@oldtimer-shop.example' }),
  ok('info@lastday.example', 'STARTTLS fallback (993 and 465 closed)', 'autoconfig', { starttls: true }),
  { email: 'someone@unknown-domain.example', label: 'unknown domain', source: 'autoconfig', expect: null },
];

/** The password every case uses; the stand-in records it so the test can check it arrived. */
export const DC_PASSWORD = 'stand-in password 1';

/** Our HTTPS front (every autoconfig., autodiscover. and customer-domain name). */
export const FRONT_ADDRESS = '127.0.0.2';

const domainOf = (email: string) => email.slice(email.indexOf('@') + 1);

/** Every name the front serves: each case's domain and its two service names, and our own. */
export function frontNames(cases: DcCase[] = DC_CASES): string[] {
  const names = new Set<string>([SERVICE_HOST]);
  for (const c of cases) {
    const d = domainOf(c.email);
    for (const n of [d, `autoconfig.${d}`, `autodiscover.${d}`]) names.add(n);
  }
  return [...names].sort();
}

/** Every mail host any case expects, each with its own 127.0.1.x address. */
export function mailHosts(cases: DcCase[] = DC_CASES): Array<{ host: string; address: string }> {
  const hosts = [...new Set(cases.flatMap((c) => (c.expect ? [c.expect.imap.host, c.expect.smtp.host] : [])))].sort();
  return hosts.map((host, i) => ({ host, address: `127.0.1.${i + 1}` }));
}

export function dcHostsEntries(cases: DcCase[] = DC_CASES): HostsEntries {
  return [{ address: FRONT_ADDRESS, names: frontNames(cases) }, ...mailHosts(cases).map((m) => ({ address: m.address, names: [m.host] }))];
}

// ---------------------------------------------------------------------------------------
// What deltachat-run.ts reports to the suite.

/** The core release whose TLS verification (src/net/tls.rs, tls/danger.rs, tls/spki.rs) this suite was checked against. */
export const VERIFIED_CORE_VERSION = 'v2.57.0';
/** The pin table of that release, as `PRAGMA table_info` lists it. */
export const PIN_TABLE = { name: 'tls_spki', columns: ['host', 'spki_hash', 'timestamp'] };

/**
 * How the case's TLS was set up: `pinned`, our test keys pinned for exactly the names served;
 * `unpinned`, no pins (strict TLS must refuse the test CA); `wrong-name`, the pins of the
 * mail hosts' names hold the front's key and the stand-in presents the front's certificate,
 * which does not name them (the host-name check must refuse it).
 */
export type PinMode = 'pinned' | 'unpinned' | 'wrong-name';

export interface DcCaseRecord {
  case: DcCase;
  pins: PinMode;
  ok: boolean;
  error?: string;
  requests: RecordedRequest[];
  /** TLS handshakes that failed at our front meanwhile. */
  tlsErrors: Array<{ servername?: string; message: string }>;
  connections: MailConnection[];
  /** The core's own log lines (info, warning, error events) for this account. */
  log: string[];
  /** Whether the core considers the account configured afterwards. */
  configured: boolean;
  ms: number;
}

export interface DcRunResult {
  coreVersion: string;
  binary: string;
  pinTable: { name: string; columns: string[] } | null;
  frontPort: number;
  mailAddresses: Record<string, string>;
  cases: DcCaseRecord[];
  pids: number[];
  leftover: number[];
  serviceErrors: Array<Record<string, unknown>>;
  straceLog: string;
  timings: Record<string, number>;
}

