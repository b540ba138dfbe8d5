// Outlook autodiscover (POX), Outlook response schema 2006a, as Outlook, Thunderbird's
// ExchangeAutoDiscover and Delta Chat read it (shared notes, autodiscover section 2).
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { MailSettings, Protocol, Security, ServerSettings } from '../policy/settings.js';
import type { Templates } from './templates.js';

export const OUTLOOK_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';
/** The namespace Exchange puts its generic errors in. */
export const ERROR_RESPONSE_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';

interface ProtocolView {
  type: string;
  server: string;
  port: number;
  loginName: string | null;
  encryption: string;
  smtp: boolean;
}

export interface AutodiscoverView {
  protocols: ProtocolView[];
}

/** MS-OXDSCLI error codes we use. */
export type AutodiscoverErrorCode = 500 | 600 | 601 | 602 | 603;

export interface AutodiscoverError {
  code: AutodiscoverErrorCode;
  message: string;
  /** The Response namespace: the requested one for 601, Exchange's generic one otherwise. */
  namespace?: string;
}

interface ErrorView {
  namespace: string;
  time: string;
  id: string;
  code: number;
  message: string;
}

// Outlook's words: "SSL" is TLS from the first byte, "TLS" is STARTTLS. Sending TLS for
// 993/995/465 makes Outlook wait for a plaintext greeting that never comes.
const ENCRYPTION: Record<Security, string> = { tls: 'SSL', starttls: 'TLS' };
const TYPE: Record<Protocol, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' };

/** One Protocol per type, the policy's first choice of each: IMAP, then POP3, then SMTP. */
export function autodiscoverView(settings: MailSettings): AutodiscoverView {
  const firstOf = (list: ServerSettings[]) =>
    list.filter((s, i) => list.findIndex((o) => o.protocol === s.protocol) === i);
  const protocols = [...firstOf(settings.incoming), ...firstOf(settings.outgoing)].map((s) => ({
    type: TYPE[s.protocol],
    server: s.host,
    port: s.port,
    loginName: settings.login,
    encryption: ENCRYPTION[s.security],
    smtp: s.protocol === 'smtp',
  }));
  return { protocols };
}

// Exchange identifies the answering server with an unsigned integer; ours is stable per host.
const SERVER_ID = String(createHash('sha256').update(hostname()).digest().readUInt32BE(0));

export function errorView(error: AutodiscoverError, now: Date = new Date()): ErrorView {
  return {
    namespace: error.namespace ?? ERROR_RESPONSE_SCHEMA,
    time: `${now.toISOString().slice(11, 23)}`,
    id: SERVER_ID,
    code: error.code,
    message: error.message,
  };
}

export function autodiscoverRenderer(templates: Templates): (settings: MailSettings) => string {
  const template = templates.get<AutodiscoverView>('autodiscover.xml');
  return (settings) => template(autodiscoverView(settings));
}

export function autodiscoverErrorRenderer(templates: Templates): (error: AutodiscoverError) => string {
  const template = templates.get<ErrorView>('autodiscover-error.xml');
  return (error) => template(errorView(error));
}
