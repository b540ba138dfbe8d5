// Thunderbird autoconfig (`config-v1.1.xml`), as Thunderbird, Thunderbird for Android,
// FairEmail, Evolution, KMail and Delta Chat read it (see shared notes, section 4).
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';
import type { Templates } from './templates.js';

interface ServerView {
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  authentication: string;
}

export interface AutoconfigView {
  providerId: string;
  domain: string;
  displayName: string;
  displayShortName: string;
  incoming: ServerView[];
  outgoing: ServerView[];
  documentationUrl: string;
  documentationText: string;
}

const SOCKET_TYPE: Record<Security, string> = { tls: 'SSL', starttls: 'STARTTLS' };
/** Clients substitute the address the user typed; FairEmail only knows this exact form. */
export const ADDRESS_PLACEHOLDER = '%EMAILADDRESS%';

export function autoconfigView(settings: MailSettings): AutoconfigView {
  const server = (s: ServerSettings): ServerView => ({
    type: s.protocol,
    hostname: s.host,
    port: s.port,
    socketType: SOCKET_TYPE[s.security],
    username: settings.login ?? ADDRESS_PLACEHOLDER,
    authentication: 'password-cleartext',
  });
  return {
    providerId: settings.provider.id,
    domain: settings.domain,
    displayName: settings.provider.displayName,
    displayShortName: settings.provider.displayShortName,
    incoming: settings.incoming.map(server),
    outgoing: settings.outgoing.map(server),
    documentationUrl: settings.provider.documentationUrl,
    documentationText: `${settings.provider.displayName}: setting up a mail program`,
  };
}

export function autoconfigRenderer(templates: Templates): (settings: MailSettings) => string {
  const template = templates.get<AutoconfigView>('autoconfig.xml');
  return (settings) => template(autoconfigView(settings));
}
