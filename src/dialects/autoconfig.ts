// Thunderbird autoconfig (`config-v1.1.xml`, draft-ietf-mailmaint-autoconfig), as
// Thunderbird, Thunderbird for Android, FairEmail, Evolution, KMail and Delta Chat read it:
// the request reader, the view for templates/autoconfig.xml.hbs, and the answer for every
// Resolution.
import { AUTOCONFIG_LABEL } from '../links.js';
import { domainFromHost, evolutionMailboxMd5, isEvolutionPlaceholder, parseAddress, type MailTarget } from '../model/address.js';
import type { Resolution } from '../pipeline/lookup.js';
import type { MailSettings, Security, ServerSettings } from '../policy/settings.js';
import { MAILBOX_PRIVATE, textAnswer, textFailure, xmlAnswer, type Answer } from './answer.js';
import { isXmlSafe } from './escape.js';
import { SAMPLE_DOMAIN_SETTINGS, SAMPLE_MAILBOX_SETTINGS } from './sample.js';
import { provenTemplate, wellFormedXml, type TemplateSource } from './template.js';

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
  /**
   * The provider's MX base domains, written `<domain purpose="mx">` (draft-ietf-mailmaint-
   * autoconfig-06 section 3.2.3, RECOMMENDED): the answer applies to an address whose MX
   * host is within one of them, which is how MX-based lookups reach it. Thunderbird skips
   * such an element (its JXON reader makes an object of an element with an attribute, which
   * is no host name) and keeps the plain `<domain>`; Thunderbird for Android reads its text.
   */
  mxDomains: readonly string[];
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
 * (including one with characters XML cannot hold) counts as absent: the Host still names
 * the domain, and the answer then names no mailbox.
 *
 * Evolution's placeholder form, `emailaddress=EVOLUTIONUSER@<domain>&emailmd5=<md5>`,
 * names its domain and no address: the mailbox is named by the hash alone (a malformed
 * hash: by nothing). The placeholder is never taken for a mailbox, so it is never echoed
 * as a login: GNOME/evolution src/mail/e-mail-autoconfig.c (`mail_autoconfig_parse_text`)
 * substitutes only %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% in the answer, with
 * the address the user typed, and has no rule for `EVOLUTIONUSER`: a literal
 * `EVOLUTIONUSER@<domain>` would become the account's login as it stands.
 */
export function readAutoconfigRequest(
  emailaddress: string | undefined,
  host: string | undefined,
  emailmd5?: string | undefined,
): MailTarget | undefined {
  const parsed = parseAddress(emailaddress);
  const domain = parsed?.domain ?? domainFromHost(host, [AUTOCONFIG_LABEL]);
  if (!domain) return undefined;
  if (parsed && isEvolutionPlaceholder(parsed)) {
    const mailboxMd5 = evolutionMailboxMd5(parsed, emailmd5);
    return mailboxMd5 ? { domain, mailboxMd5 } : { domain };
  }
  return { domain, address: parsed };
}

/**
 * The username to write for `settings`, or undefined when it cannot be written. Clients
 * substitute placeholders inside the value (Thunderbird replaces %EMAILADDRESS%,
 * %EMAILLOCALPART% and %EMAILDOMAIN% anywhere in it) and FairEmail knows only the exact
 * placeholder, so a login holding `%` (legal in an address: RFC 5321 atext) is never
 * written literally: when it is the address, the placeholder says the same; a stored
 * login with `%` cannot be said at all (account import refuses them).
 */
export function autoconfigUsername(settings: MailSettings): string | undefined {
  const { login, address } = settings;
  if (login === null || (login === address && login.includes('%'))) return ADDRESS_PLACEHOLDER;
  return login.includes('%') ? undefined : login;
}

export function autoconfigView(
  settings: MailSettings,
  username: string = autoconfigUsername(settings) ?? ADDRESS_PLACEHOLDER,
  mxDomains: readonly string[] = [],
): AutoconfigView {
  const server = (s: ServerSettings): ServerView => ({
    type: s.protocol,
    hostname: s.host,
    port: s.port,
    socketType: SOCKET_TYPE[s.security],
    username,
    authentication: 'password-cleartext',
  });
  return {
    providerId: settings.provider.id,
    domain: settings.domain,
    mxDomains,
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

/** Stands in for the provider's MX base domains when the template is proven at start-up. */
const SAMPLE_MX_DOMAINS: readonly string[] = Object.freeze(['example.net']);

/** `mxDomains`: the provider's MX base domains (policy/provider-profile.ts mxLookupDomains). */
export function autoconfigDialect(templates: TemplateSource, mxDomains: readonly string[] = []): AutoconfigDialect {
  const template = provenTemplate(
    'autoconfig.xml',
    templates.get<AutoconfigView>('autoconfig.xml'),
    [SAMPLE_MAILBOX_SETTINGS, SAMPLE_DOMAIN_SETTINGS].map((s) => autoconfigView(s, undefined, SAMPLE_MX_DOMAINS)),
    wellFormedXml,
  );
  const render = (settings: MailSettings) => template(autoconfigView(settings, undefined, mxDomains));
  return {
    render,
    answer: (resolution) => {
      switch (resolution.kind) {
        case 'settings': {
          const username = autoconfigUsername(resolution.settings);
          const view = autoconfigView(resolution.settings, username, mxDomains);
          // Stored data that cannot be written (text XML cannot hold, a login clients would
          // rewrite) is data no answer can be made from, like data that gives no host.
          if (username === undefined || !isXmlSafe(view)) return textFailure('data-error');
          // With an address (or Evolution's hash of one), the answer is the mailbox's, found
          // or not; without, it is the domain's and names none (the placeholder).
          const mailbox = resolution.settings.address !== null || resolution.settings.namedByHash === true;
          return xmlAnswer(200, template(view), mailbox ? MAILBOX_PRIVATE : undefined);
        }
        case 'address-required':
          return textAnswer(404, 'Mail settings for this domain need the email address (?emailaddress=)');
        default:
          return textFailure(resolution.kind);
      }
    },
    noDomain: textAnswer(404, 'No mail settings: no domain given'),
  };
}
