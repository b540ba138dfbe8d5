// The DNS records a customer domain publishes for mail-client auto-setup, as zone-file
// lines (`mailconf dns`): CNAMEs and the autodiscover SRV record to this service, and the
// RFC 6186 / RFC 8314 SRV records to the account's mail host, and PACC's CNAME and digest
// TXT record (or why the domain has none). Pure: settings in, text out.
import { AUTOCONFIG_LABEL, AUTODISCOVER_LABEL, PACC_LABEL, PACC_TXT_LABEL } from '../links.js';
import type { MailSettings, Protocol, Security, ServerSettings } from '../policy/settings.js';
import { PACC_REVISION, PACC_TTL_SECONDS, paccDigest, paccTxtRecord, type PaccPublication } from './pacc.js';

export interface DnsZoneInput {
  /** The customer domain, lower-case. */
  domain: string;
  /** The service's host name (PUBLIC_URL's): target of the CNAMEs and the autodiscover SRV. */
  serviceHost: string;
  settings: MailSettings;
  ttl?: number;
  /**
   * The service's own names for MX-based lookups (links.ts mxServiceHosts): named in a
   * comment, since they are the operator's records, not the customer domain's.
   */
  mxServiceHosts?: readonly string[];
  /** The domain's PACC document (dialects/pacc.ts paccPublication): its records, or why there are none. */
  pacc?: PaccPublication;
}

export interface ZoneRecord {
  name: string;
  type: 'CNAME' | 'SRV' | 'TXT';
  /** Its own TTL, when it must not be the zone's (PACC's TXT record: PACC_TTL_SECONDS). */
  ttl?: number;
  /** The record data, as written after the type. */
  data: string;
  comment: string;
}

/** RFC 6186 and RFC 8314 service labels: an `s` is implicit TLS, without it STARTTLS. */
const SRV_SERVICE: Record<Protocol, Record<Security, string>> = {
  imap: { tls: '_imaps', starttls: '_imap' },
  pop3: { tls: '_pop3s', starttls: '_pop3' },
  smtp: { tls: '_submissions', starttls: '_submission' },
};

const SERVICE_NAME: Record<Protocol, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP submission' };

/** Outlook reads only the target of `_autodiscover._tcp` and asks it over HTTPS. */
export const AUTODISCOVER_SRV_PORT = 443;
/** Priority step between successive preferences (room to add records in between). */
const PRIORITY_STEP = 10;

const fqdn = (name: string) => `${name}.`;

/**
 * SRV records for `servers`, one per server, with priorities in the order given: RFC 6186
 * section 3.4 has clients compare priorities across `_imap`, `_imaps`, `_pop3` and
 * `_pop3s` (and across `_submission` and `_submissions`), so the policy's order (implicit
 * TLS before STARTTLS, IMAP before POP3) becomes 0, 10, 20, ... Weight 0: one target each
 * (RFC 2782).
 */
function srvRecords(domain: string, servers: ServerSettings[]): ZoneRecord[] {
  return servers.map((s, i) => ({
    name: fqdn(`${SRV_SERVICE[s.protocol][s.security]}._tcp.${domain}`),
    type: 'SRV',
    data: `${i * PRIORITY_STEP} 0 ${s.port} ${fqdn(s.host)}`,
    comment: `${SERVICE_NAME[s.protocol]}, ${s.security === 'tls' ? 'implicit TLS' : 'STARTTLS'}`,
  }));
}

/**
 * PACC (draft-ietf-mailmaint-pacc): the document's host, and the TXT record with the
 * SHA-256 of its exact bytes, its TTL the document's max-age.
 */
function paccRecords(domain: string, serviceHost: string, pacc: PaccPublication | undefined): ZoneRecord[] {
  if (!pacc?.published) return [];
  return [
    { name: fqdn(`${PACC_LABEL}.${domain}`), type: 'CNAME', data: fqdn(serviceHost), comment: 'PACC (Apple Mail and others)' },
    {
      name: fqdn(`${PACC_TXT_LABEL}.${domain}`),
      type: 'TXT',
      ttl: PACC_TTL_SECONDS,
      // A base64 digest holds no character a quoted string must escape.
      data: `"${paccTxtRecord(paccDigest(pacc.body))}"`,
      comment: `PACC: SHA-256 of the document (${PACC_REVISION})`,
    },
  ];
}

export function dnsRecords({ domain, serviceHost, settings, pacc }: DnsZoneInput): ZoneRecord[] {
  return [
    { name: fqdn(`${AUTOCONFIG_LABEL}.${domain}`), type: 'CNAME', data: fqdn(serviceHost), comment: 'Thunderbird and most clients' },
    { name: fqdn(`${AUTODISCOVER_LABEL}.${domain}`), type: 'CNAME', data: fqdn(serviceHost), comment: 'Outlook, Delta Chat' },
    {
      name: fqdn(`_autodiscover._tcp.${domain}`),
      type: 'SRV',
      data: `0 0 ${AUTODISCOVER_SRV_PORT} ${fqdn(serviceHost)}`,
      comment: 'Outlook, Thunderbird (HTTPS)',
    },
    ...paccRecords(domain, serviceHost, pacc),
    ...srvRecords(domain, settings.outgoing),
    ...srvRecords(domain, settings.incoming),
  ];
}

export function renderDnsZone(input: DnsZoneInput): string {
  const ttl = input.ttl ?? 3600;
  const records = dnsRecords(input);
  const nameWidth = Math.max(...records.map((r) => r.name.length));
  const dataWidth = Math.max(...records.map((r) => r.data.length));
  const ttlWidth = Math.max(...records.map((r) => String(r.ttl ?? ttl).length));
  const lines = records.map(
    (r) => `${r.name.padEnd(nameWidth)} ${String(r.ttl ?? ttl).padEnd(ttlWidth)} IN ${r.type.padEnd(5)} ${r.data.padEnd(dataWidth)} ; ${r.comment}`,
  );
  return [
    `; ${input.domain}: records for mail-client auto-setup (mailconf dns)`,
    `; service: ${input.serviceHost}; mail host: ${input.settings.host}`,
    ...(input.mxServiceHosts && input.mxServiceHosts.length > 0
      ? [`; without these, clients follow the domain's MX and try the service's own names ${input.mxServiceHosts.join(', ')}`]
      : []),
    ...(input.pacc && !input.pacc.published ? [`; no PACC records (${PACC_LABEL}, ${PACC_TXT_LABEL}): ${input.pacc.reason}`] : []),
    ...lines,
    '',
  ].join('\n');
}
