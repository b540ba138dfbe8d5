// The client suite's own directory: one account per case the provider policy
// distinguishes, and what a mail client must end up with for each address.
import type { ImportAccount } from '../../src/model/account.js';

export const CLIENT_ACCOUNTS: ImportAccount[] = [
  // Old era: mail<N>.pair.com; one mailbox has its own login.
  { username: 'oldtimer', created: '2009-03-14', mailServer: 123, domains: ['oldtimer-shop.example'],
    mailboxes: [{ address: 'sales@oldtimer-shop.example', login: 'sales-oldtimer' }] },
  // New era: <username>.mail.pairserver.com.
  { username: 'hershop', created: '2019-10-02T15:04:05Z', mailServer: null, domains: ['her-shop.example'], mailboxes: [] },
  // The era boundary, 1 June 2011 00:00 in New York (04:00 UTC): the last second before, the first second of.
  { username: 'lastday', created: '2011-06-01T03:59:59Z', mailServer: 12, domains: ['lastday.example'], mailboxes: [] },
  { username: 'firstday', created: '2011-06-01T04:00:00Z', mailServer: null, domains: ['firstday.example'], mailboxes: [] },
  // The boundary as plain dates.
  { username: 'datelast', created: '2011-05-31', mailServer: 7, domains: ['datelast.example'], mailboxes: [] },
  { username: 'datefirst', created: '2011-06-01', mailServer: 9, domains: ['datefirst.example'], mailboxes: [] },
  // The account-named domain pair.com: <username>@pair.com logs in with the bare username,
  // unless the mailbox has a login of its own.
  { username: 'plainpair', created: '2016-01-01', mailServer: null, domains: [], mailboxes: [] },
  { username: 'pairuser', created: '2015-08-20', mailServer: null, domains: [],
    mailboxes: [{ address: 'pairuser@pair.com', login: 'pairuser-imap' }] },
  // Data from which no host can be derived: an old-era account without a mail server.
  { username: 'noserver', created: '2005-01-01', mailServer: null, domains: ['broken-old.example'], mailboxes: [] },
];

export interface ClientCase {
  /** What the user types into Thunderbird. */
  email: string;
  domain: string;
  /** Why this address is here. */
  label: string;
  /** The settings the client must pick, or null when it must find no config. */
  expect: { host: string; login: string } | null;
}

const at = (email: string) => email.slice(email.indexOf('@') + 1);
const ok = (email: string, label: string, host: string, login: string): ClientCase => ({ email, domain: at(email), label, expect: { host, login } });
const none = (email: string, label: string): ClientCase => ({ email, domain: at(email), label, expect: null });

export const CLIENT_CASES: ClientCase[] = [
  ok('jane@oldtimer-shop.example', 'old era', 'mail123.pair.com', 'jane@oldtimer-shop.example'),
  ok('sales@oldtimer-shop.example', 'old era, per-mailbox login', 'mail123.pair.com', 'sales-oldtimer'),
  ok('jane@her-shop.example', 'new era', 'hershop.mail.pairserver.com', 'jane@her-shop.example'),
  ok('info@lastday.example', 'last second before the cut-off (New York)', 'mail12.pair.com', 'info@lastday.example'),
  ok('info@firstday.example', 'first second of the cut-off day (New York)', 'firstday.mail.pairserver.com', 'info@firstday.example'),
  ok('info@datelast.example', 'created the day before the cut-off', 'mail7.pair.com', 'info@datelast.example'),
  ok('info@datefirst.example', 'created on the cut-off day', 'datefirst.mail.pairserver.com', 'info@datefirst.example'),
  ok('plainpair@pair.com', 'account-named domain: bare username', 'plainpair.mail.pairserver.com', 'plainpair'),
  ok('pairuser@pair.com', 'account-named domain, per-mailbox login', 'pairuser.mail.pairserver.com', 'pairuser-imap'),
  none('someone@unknown-domain.example', 'unknown domain'),
  none('nobody@pair.com', 'unknown account on the account-named domain'),
  none('info@broken-old.example', 'account data that cannot give a host'),
];

/** The service's own name (PUBLIC_URL), where it sends plain-HTTP autodiscover clients. */
export const SERVICE_HOST = 'mailconf.pair-test.example';
export const PUBLIC_URL = `https://${SERVICE_HOST}`;
/** Its registrable domain: what Thunderbird names when it asks the user to trust a redirect. */
export const SERVICE_BASE_DOMAIN = 'pair-test.example';

/** Every name a client may contact for these cases: the TLS certificate must cover each. */
export function tlsNames(cases: ClientCase[] = CLIENT_CASES): string[] {
  const names = new Set<string>([SERVICE_HOST]);
  for (const c of cases) for (const n of [c.domain, `autoconfig.${c.domain}`, `autodiscover.${c.domain}`]) names.add(n);
  return [...names].sort();
}
