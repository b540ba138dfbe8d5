// Settings in words, for people: plain text (`mailconf lookup`, `curl .../settings`).
// The provider's wording (limits, port 25, usage rules) comes from its profile.
import { messageLimits, PORT_25_REASON, type ProviderWording } from '../policy/provider-profile.js';
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';

export const SECURITY_LABEL: Record<Security, string> = { tls: 'SSL/TLS', starttls: 'STARTTLS' };

export interface TextOptions {
  /** Where an Apple device downloads the profile for this address (absolute URL). */
  appleProfileUrl?: string | undefined;
}

/** `wording`: the provider profile (its usage rules). */
export function renderSettingsText(settings: MailSettings, wording: Pick<ProviderWording, 'usageRules'>, options: TextOptions = {}): string {
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
    ...wording.usageRules.map((rule) => `  - ${rule}`),
    '',
    ...(options.appleProfileUrl ? [`Apple devices (profile): ${options.appleProfileUrl}`] : []),
    `Help: ${settings.provider.documentationUrl}`,
    '',
  ].join('\n');
}
