// The KMail suite's cases and what kmail-run.ts reports. KMail's discovery code is Debian's
// `ispdb` (package accountwizard, 4:22.12.3-1+deb12u1: KDE's kmail-account-wizard 22.12.3
// with Debian's patch for CVE-2024-50624). Read from src/ispdb/ispdb.cpp and main.cpp and
// measured here: it asks, in this order and without ever sending the address,
//   https://autoconfig.thunderbird.net/v1.1/<d>   (Mozilla's ISPDB: unreachable in the namespace)
//   https://autoconfig.<d>/mail/config-v1.1.xml   (Debian's patch: HTTPS first...)
//   http://autoconfig.<d>/mail/config-v1.1.xml    (...then the plain-HTTP fallback it kept)
//   https://<d>/.well-known/autoconfig/mail/config-v1.1.xml
// and prints the servers of the first answer (main.cpp, through the logging category
// org.kde.pim.accountwizard). The accounts are the Thunderbird suite's (fixtures.ts).
import { CLIENT_CASES, tlsNames } from './fixtures.js';
import type { HostsEntries } from './netns.js';
import type { RecordedRequest } from './service.js';

/** Our three URLs, in the order ispdb asks them (after Mozilla's ISPDB). */
export type KmSource = 'autoconfig-https' | 'autoconfig-http' | 'well-known';
export const KM_SOURCES: KmSource[] = ['autoconfig-https', 'autoconfig-http', 'well-known'];

/** Mozilla's ISPDB, which ispdb asks first; the namespace cannot resolve it. */
export const MOZILLA_ISPDB_HOST = 'autoconfig.thunderbird.net';

const domainOf = (email: string) => email.slice(email.indexOf('@') + 1);

/** The URL of `source` for `email`, as ispdb writes it (no query: it never sends the address). */
export function sourceUrl(source: KmSource, email: string): string {
  const d = domainOf(email).toLowerCase();
  switch (source) {
    case 'autoconfig-https':
      return `https://autoconfig.${d}/mail/config-v1.1.xml`;
    case 'autoconfig-http':
      return `http://autoconfig.${d}/mail/config-v1.1.xml`;
    case 'well-known':
      return `https://${d}/.well-known/autoconfig/mail/config-v1.1.xml`;
  }
}

/** A recorded request as one absolute URL, to compare with sourceUrl. */
export function requestUrl(r: RecordedRequest): string {
  return `${r.scheme}://${r.host}${r.url}`;
}

/** One server as ispdb prints it (main.cpp): `encryption` is SSL, TLS (STARTTLS) or None. */
export interface KmServer {
  hostname: string;
  port: number;
  encryption: string;
  username: string;
  authentication: string;
}

export interface KmReport {
  imap: KmServer[];
  pop3: KmServer[];
  smtp: KmServer[];
}

export interface KmCase {
  email: string;
  label: string;
  /**
   * The URL that must serve the answer: every earlier one of ours fails in the front. For a
   * case without settings, autoconfig-https: the front fails nothing, every answer is the service's.
   */
  source: KmSource;
  /** The era host and the login ispdb must print, or null: it must find nothing. */
  expect: { host: string; login: string } | null;
}

function ok(email: string, label: string, source: KmSource = 'autoconfig-https', login?: string): KmCase {
  const c = CLIENT_CASES.find((x) => x.email === email);
  if (!c?.expect) throw new Error(`no client case for ${email}`);
  return { email, label, source, expect: { host: c.expect.host, login: login ?? c.expect.login } };
}

export const KM_CASES: KmCase[] = [
  ok('jane@oldtimer-shop.example', 'old era'),
  ok('jane@her-shop.example', 'new era'),
  ok('info@lastday.example', 'last second before the era cut-off (New York)'),
  ok('info@firstday.example', 'first second of the era cut-off day (New York)'),
  // ispdb sends no address, so the service answers for the domain with %EMAILADDRESS%,
  // which ispdb fills in: a stored per-mailbox login cannot reach KMail this way.
  ok('sales@oldtimer-shop.example', 'per-mailbox login: KMail gets the address as login', 'autoconfig-https', 'sales@oldtimer-shop.example'),
  ok('info@datelast.example', 'plain-HTTP fallback (https://autoconfig.<d> fails)', 'autoconfig-http'),
  ok('info@datefirst.example', '.well-known on the domain (both autoconfig URLs fail)', 'well-known'),
  { email: 'someone@unknown-domain.example', label: 'unknown domain', source: 'autoconfig-https', expect: null },
];

/**
 * The account-named domain: the host depends on the local part (plainpair.mail.pairserver.com),
 * which ispdb never sends. What it gets is what the service answers autoconfig.pair.com
 * without an address; the suite asserts that it prints no server of another account.
 */
export const KM_ACCOUNT_NAMED: KmCase[] = [
  { email: 'plainpair@pair.com', label: 'account-named domain (KMail sends no address)', source: 'autoconfig-https', expect: null },
];

/** Our front for every autoconfig., autodiscover. and customer-domain name, on 80 and 443. */
export const FRONT_ADDRESS = '127.0.0.2';

export function kmHostsEntries(): HostsEntries {
  return [{ address: FRONT_ADDRESS, names: tlsNames() }];
}

// ---------------------------------------------------------------------------------------
// What kmail-run.ts reports to the suite.

/**
 * How the namespace was set up for a run: `offline`, only loopback (KIO thinks the machine
 * is offline); `untrusted`, a veth pair but the test CA not in the system store; `trusted`,
 * both: the real cases.
 */
export type KmSetup = 'offline' | 'untrusted' | 'trusted';

export interface KmRun {
  case: KmCase;
  setup: KmSetup;
  /** How ispdb ended: on its own, stopped because it kept repeating a failed step, or at the timeout. */
  ended: 'exited' | 'repeating' | 'timeout';
  exitCode: number | null;
  /** What it printed at the end (main.cpp), or null when it did not get there. */
  report: KmReport | null;
  /** Its "Fetching failed" lines, in order. */
  failures: string[];
  requests: RecordedRequest[];
  tlsErrors: Array<{ servername?: string; message: string }>;
  /** The last lines of its output, for failure messages. */
  log: string[];
  straceLog: string;
  pids: number[];
  leftover: number[];
  ms: number;
}

export interface KmRunResult {
  /** dpkg's version of accountwizard, for the report. */
  packageVersion: string;
  ports: { http: number; https: number };
  runs: KmRun[];
  serviceErrors: Array<Record<string, unknown>>;
  timings: Record<string, number>;
}
