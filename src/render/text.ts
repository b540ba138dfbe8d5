// Settings as plain text, for people at a terminal (`mailconf lookup`).
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';

const SECURITY: Record<Security, string> = { tls: 'SSL/TLS', starttls: 'STARTTLS' };

export function renderSettingsText(settings: MailSettings): string {
  const line = (s: ServerSettings, i: number) =>
    `  ${s.protocol.toUpperCase().padEnd(5)}${s.host}  port ${String(s.port).padEnd(4)} ${SECURITY[s.security].padEnd(9)}${i === 0 ? ' (preferred)' : ''}`;
  const megabytes = Math.round(settings.maxMessageBytes / (1024 * 1024));
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
    `Message size limit: ${megabytes} MB including encoding (about ${Math.floor(megabytes * 0.875)} MB of attachments).`,
    'Port 25 is not offered: many internet providers block it. Unencrypted connections are never offered.',
    `Help: ${settings.provider.documentationUrl}`,
    '',
  ].join('\n');
}
