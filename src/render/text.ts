// Settings in words, for people: plain text (`mailconf lookup`, `curl .../settings`) and
// the wording the HTML settings page shares with it (limits, port 25, usage rules).
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';

export const SECURITY_LABEL: Record<Security, string> = { tls: 'SSL/TLS', starttls: 'STARTTLS' };

/**
 * The message size limit in whole megabytes, and the attachments that fit once encoded.
 * 7/8 reproduces the provider's own "40 MB, about 35 MB of attachments" (provider.md).
 */
export function messageLimits(maxMessageBytes: number): { megabytes: number; attachmentMegabytes: number } {
  const megabytes = Math.round(maxMessageBytes / (1024 * 1024));
  return { megabytes, attachmentMegabytes: Math.floor(megabytes * 0.875) };
}

export const PORT_25_REASON =
  'Port 25 is not offered: many internet providers block it, so a mail program set to it often cannot send. ' +
  'Ports 465 and 587 are rarely blocked and always encrypted. Unencrypted connections are never offered.';

/** The provider's rules for its SMTP service (shared/provider.md), shown to people, never to mail clients. */
export const USAGE_RULES: readonly string[] = Object.freeze([
  'For customers only, sending from the addresses of their own hosting accounts.',
  'No mailing lists: the provider offers a mailing list service for those.',
  'No large attachments.',
  'No mail from unaffiliated addresses (addresses that are not yours).',
  'No spam.',
]);

export interface TextOptions {
  /** Where an Apple device downloads the profile for this address (absolute URL). */
  appleProfileUrl?: string | undefined;
}

export function renderSettingsText(settings: MailSettings, options: TextOptions = {}): string {
  const line = (s: ServerSettings, i: number) =>
    `  ${s.protocol.toUpperCase().padEnd(5)}${s.host}  port ${String(s.port).padEnd(4)} ${SECURITY_LABEL[s.security].padEnd(9)}${i === 0 ? ' (preferred)' : ''}`.trimEnd();
  const { megabytes, attachmentMegabytes } = messageLimits(settings.maxMessageBytes);
  return [
    `Mail settings for ${settings.address ?? `addresses at ${settings.domain}`}`,
    '',
    `Server:   ${settings.host} (incoming and outgoing)`,
    `Login:    ${settings.login ?? 'your full email address'}`,
    'Password: the mailbox password (required for sending too)',
    '',
    'Incoming mail:',
    ...settings.incoming.map(line),
    'Outgoing mail (SMTP, authentication required):',
    ...settings.outgoing.map(line),
    '',
    `Message size limit: ${megabytes} MB including encoding (about ${attachmentMegabytes} MB of attachments).`,
    PORT_25_REASON,
    '',
    'Usage rules:',
    ...USAGE_RULES.map((rule) => `  - ${rule}`),
    '',
    ...(options.appleProfileUrl ? [`Apple devices (profile): ${options.appleProfileUrl}`] : []),
    `Help: ${settings.provider.documentationUrl}`,
    '',
  ].join('\n');
}
