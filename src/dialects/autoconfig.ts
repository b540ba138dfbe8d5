// Thunderbird autoconfig (`config-v1.1.xml`, draft-ietf-mailmaint-autoconfig), as
// Thunderbird, Thunderbird for Android, FairEmail, Evolution, KMail and Delta Chat read it:
// the request reader, the view for templates/autoconfig.xml.hbs, and the answer for every
// Resolution.
import { AUTOCONFIG_LABEL } from '../links.js';
import { domainFromHost, parseAddress, type MailTarget } from '../model/address.js';
import type { Resolution } from '../pipeline.js';
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';
import { textAnswer, textFailure, XML, type Answer } from './answer.js';
import type { TemplateSource } from './template.js';

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

/**
 * The target of an autoconfig request: the `emailaddress` parameter, else the Host
 * (`autoconfig.<domain>` or `<domain>` for the .well-known path). A malformed address
 * counts as absent: the Host still names the domain.
 */
export function readAutoconfigRequest(emailaddress: string | undefined, host: string | undefined): MailTarget | undefined {
  const address = parseAddress(emailaddress);
  const domain = address?.domain ?? domainFromHost(host, [AUTOCONFIG_LABEL]);
  return domain ? { domain, address } : undefined;
}

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

export interface AutoconfigDialect {
  render(settings: MailSettings): string;
  answer(resolution: Resolution): Answer;
  /** Neither an address nor a Host names a domain. */
  readonly noDomain: Answer;
}

export function autoconfigDialect(templates: TemplateSource): AutoconfigDialect {
  const template = templates.get<AutoconfigView>('autoconfig.xml');
  const render = (settings: MailSettings) => template(autoconfigView(settings));
  return {
    render,
    answer: (resolution) => {
      switch (resolution.kind) {
        case 'settings':
          return { status: 200, type: XML, body: render(resolution.settings) };
        case 'address-required':
          return textAnswer(404, 'Mail settings for this domain need the email address (?emailaddress=)');
        default:
          return textFailure(resolution.kind);
      }
    },
    noDomain: textAnswer(404, 'No mail settings: no domain given'),
  };
}
