// Reads an autoconfig answer (`config-v1.1.xml`) the way Thunderbird, Thunderbird for
// Android, FairEmail and Evolution do, and lists every format problem one of them would
// trip over.
//
// Format rules follow the IETF draft "Mail Autoconfig" (draft-ietf-mailmaint-autoconfig);
// each client model follows that client's public parser, named at its section below. The
// models are our own code, deliberately small: they cover only what our answers can contain.

import { isHostName, parseOrReport, quote } from './check-helpers.js';
import { elements, hasElementChildren, textOf, walk, type XmlElement } from './xml-reader.js';

const BOM = '\uFEFF';
/** A UTF-8 BOM decoded as Latin-1 / Windows-1252, in case a caller decoded bytes wrongly. */
const BOM_AS_LATIN1 = '\u00EF\u00BB\u00BF';

const isLowerHostName = (s: string): boolean => isHostName(s) && s === s.toLowerCase();

function splitAddress(email: string): { local: string; domain: string } {
  const at = email.lastIndexOf('@');
  return at < 0 ? { local: email, domain: '' } : { local: email.slice(0, at), domain: email.slice(at + 1) };
}

/** %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% replaced; unchanged without an address. */
function substitute(value: string, email: string | undefined): string {
  if (email === undefined) return value;
  const { local, domain } = splitAddress(email);
  return value.replaceAll('%EMAILADDRESS%', email).replaceAll('%EMAILLOCALPART%', local).replaceAll('%EMAILDOMAIN%', domain);
}

/** For validity checks a client makes after substituting: a stand-in address when none was given. */
const STAND_IN_ADDRESS = 'user@example.com';

export type ClientName = 'thunderbird' | 'thunderbird-android' | 'fairemail' | 'evolution';
export const CLIENT_NAMES: readonly ClientName[] = ['thunderbird', 'thunderbird-android', 'fairemail', 'evolution'];

export interface ClientServer {
  type: string;
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  /** The authentication the client picks ('' for FairEmail, which does not read it). */
  authentication: string;
}

export interface ClientReading {
  /** The `<domain>` values the client keeps (Thunderbird and Thunderbird for Android; the others do not read them). */
  domains: string[];
  incoming: ClientServer | null;
  outgoing: ClientServer | null;
  incomingAlternatives: ClientServer[];
  outgoingAlternatives: ClientServer[];
  /** This client's problems, each prefixed with the client name (also listed in AutoconfigReading.problems). */
  problems: string[];
}

export interface AutoconfigReading {
  /** Format problems any of the clients (or the 1.1 format / draft) would hit; empty when the document is good. */
  problems: string[];
  /** What each client takes from the document, after its own placeholder substitution for `email`. */
  clients: Record<ClientName, ClientReading>;
}

interface AutoconfigDoc {
  hasBom: boolean;
  root: XmlElement | null;
}

const SERVER_FIELDS = ['hostname', 'port', 'socketType', 'username', 'authentication'] as const;
const GOOD_AUTH = new Set(['password-cleartext', 'password-encrypted', 'OAuth2']);
const PLACEHOLDER = /%[A-Za-z]+%/;

function serverLabel(server: XmlElement): string {
  const parent = server.parent;
  const index = parent ? elements(parent, server.name).indexOf(server) + 1 : 1;
  return `${server.name}[${index}] (${server.attrs.get('type') ?? 'no type'})`;
}

/** The servers our checks cover: imap/pop3 incoming and smtp outgoing, in document order. */
function mailServers(provider: XmlElement): XmlElement[] {
  return elements(provider).filter((el) => {
    const type = el.attrs.get('type');
    return (el.name === 'incomingServer' && (type === 'imap' || type === 'pop3')) || (el.name === 'outgoingServer' && type === 'smtp');
  });
}

export function readAutoconfig(body: string, email?: string): AutoconfigReading {
  const problems: string[] = [];
  let source = body;
  let hasBom = false;
  if (source.startsWith(BOM) || source.startsWith(BOM_AS_LATIN1)) {
    hasBom = true;
    source = source.slice(source.startsWith(BOM) ? 1 : 3);
    problems.push('document starts with a UTF-8 byte order mark (BOM)');
  }
  if (!source.startsWith('<?xml') && !source.startsWith('<clientConfig')) {
    problems.push(`document must start with "<?xml" or "<clientConfig", found ${quote(source.slice(0, 16))}`);
  }
  const root = parseOrReport(source, problems);
  if (root) problems.push(...autoconfigFormatProblems(root));

  const doc: AutoconfigDoc = { hasBom, root };
  const clients: Record<ClientName, ClientReading> = {
    thunderbird: readThunderbird(doc, email),
    'thunderbird-android': readThunderbirdAndroid(doc, email),
    fairemail: readFairEmail(doc, email),
    evolution: readEvolution(doc, email),
  };
  for (const name of CLIENT_NAMES) problems.push(...clients[name].problems);
  return { problems, clients };
}

function autoconfigFormatProblems(root: XmlElement): string[] {
  const p: string[] = [];
  if (root.name !== 'clientConfig') p.push(`root element is <${root.name}>, expected <clientConfig>`);
  else if (root.ns !== '') p.push(`<clientConfig> must not be in a namespace (found ${quote(root.ns)})`);
  if (root.name === 'clientConfig') {
    const version = root.attrs.get('version');
    if (version === undefined) p.push('<clientConfig> has no version attribute, expected "1.1"');
    else if (version.trim() !== '1.1') p.push(`<clientConfig> version is ${quote(version)}, expected "1.1"`);
  }

  const providers = elements(root, 'emailProvider');
  if (providers.length === 0) p.push('no <emailProvider> element');
  else if (providers.length > 1) p.push(`${providers.length} <emailProvider> elements, expected exactly one`);
  const provider = providers[0];
  if (provider) {
    const id = provider.attrs.get('id');
    if (id === undefined) p.push('<emailProvider> has no id attribute');
    else if (!isLowerHostName(id.trim())) p.push(`<emailProvider> id ${quote(id)} is not a valid lower-case host name`);

    const domains = elements(provider, 'domain');
    if (domains.length === 0) p.push('no <domain> element');
    for (const d of domains) {
      if (!isLowerHostName(textOf(d).trim())) p.push(`<domain> ${quote(textOf(d))} is not a valid lower-case host name`);
      // draft-06 3.2.3: `purpose` is optional and "mx" its only defined value; nothing else is ours to send.
      for (const [attr, value] of d.attrs) {
        if (attr !== 'purpose' || value !== 'mx') p.push(`<domain ${attr}=${quote(value)}>: only purpose="mx" is defined`);
      }
    }
    // Thunderbird keeps only attribute-less <domain> elements (see readThunderbird).
    if (domains.length > 0 && !domains.some((d) => d.attrs.size === 0)) p.push('every <domain> has an attribute: Thunderbird needs one without');
    for (const [name, max] of [['displayName', 60], ['displayShortName', 20]] as const) {
      for (const el of elements(provider, name)) {
        const length = [...textOf(el).trim()].length;
        if (length > max) p.push(`<${name}> is ${length} characters long, at most ${max} allowed`);
      }
    }

    const incoming = elements(provider, 'incomingServer');
    const firstIncoming = incoming[0];
    if (!incoming.some((s) => s.attrs.get('type') === 'imap')) p.push('no incomingServer with type="imap"');
    else if (firstIncoming && firstIncoming.attrs.get('type') !== 'imap') {
      p.push(`first incomingServer has type=${quote(firstIncoming.attrs.get('type') ?? '')}, expected type="imap"`);
    }
    if (!elements(provider, 'outgoingServer').some((s) => s.attrs.get('type') === 'smtp')) p.push('no outgoingServer with type="smtp"');

    for (const server of mailServers(provider)) p.push(...serverFormatProblems(server));
  }

  walk(root, (el) => {
    if (el.name === 'password') p.push(`${el.path}: <password> must never be sent`);
    for (const [attr, value] of el.attrs) {
      if (value !== value.trim()) p.push(`${el.path}/@${attr}: value ${quote(value)} has leading or trailing whitespace`);
    }
    if (!hasElementChildren(el)) {
      const text = textOf(el);
      if (text !== text.trim()) p.push(`${el.path}: text ${quote(text)} has leading or trailing whitespace`);
    }
  });
  return p;
}

function serverFormatProblems(server: XmlElement): string[] {
  const label = serverLabel(server);
  const p: string[] = [];
  const say = (msg: string): void => void p.push(`${label}: ${msg}`);
  const fields = elements(server).filter((el) => (SERVER_FIELDS as readonly string[]).includes(el.name));

  for (const field of SERVER_FIELDS) {
    const count = fields.filter((el) => el.name === field).length;
    if (count === 0) say(`missing <${field}>`);
    else if (count > 1 && field !== 'authentication') say(`more than one <${field}>`);
  }
  const ranks = fields.map((el) => (SERVER_FIELDS as readonly string[]).indexOf(el.name));
  if (ranks.some((rank, i) => i > 0 && rank < (ranks[i - 1] ?? 0))) {
    say(`children out of order (${fields.map((el) => el.name).join(', ')}); expected ${SERVER_FIELDS.join(', ')}`);
  }

  const auths: string[] = [];
  for (const el of fields) {
    if (hasElementChildren(el)) {
      say(`<${el.name}> contains elements where text is expected`);
      continue;
    }
    // Surrounding whitespace is reported once, by the whitespace rule; judge the rest here.
    const value = textOf(el).trim();
    switch (el.name) {
      case 'hostname':
        if (value === '') say('<hostname> is empty');
        else if (PLACEHOLDER.test(value) || value.includes('%')) say(`hostname ${quote(value)} contains a placeholder`);
        else if (!isHostName(value)) say(`hostname ${quote(value)} is not a valid host name`);
        break;
      case 'port': {
        const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
        if (!(port >= 1 && port <= 65535)) say(`port ${quote(value)} is not a number in 1-65535`);
        else if (port === 25 && server.attrs.get('type') === 'smtp') say('SMTP on port 25 (blocked for clients on many networks; use 465 or 587)');
        break;
      }
      case 'socketType':
        if (value !== 'SSL' && value !== 'STARTTLS') say(`socketType ${quote(value)} must be exactly SSL or STARTTLS`);
        break;
      case 'username':
        if (value === '') say('<username> is empty');
        else if (value.includes('%') && value !== '%EMAILADDRESS%' && value !== '%EMAILLOCALPART%') {
          say(`username ${quote(value)} must be exactly %EMAILADDRESS% or %EMAILLOCALPART%, or a literal without "%"`);
        }
        break;
      case 'authentication':
        auths.push(value);
        if (!GOOD_AUTH.has(value)) say(`authentication ${quote(value)} is not password-cleartext, password-encrypted or OAuth2`);
        break;
    }
  }
  const oauth = auths.indexOf('OAuth2');
  if (oauth >= 0 && !auths.slice(oauth + 1).includes('password-cleartext')) say('authentication OAuth2 is not followed by password-cleartext');
  return p;
}

function emptyReading(): ClientReading {
  return { domains: [], incoming: null, outgoing: null, incomingAlternatives: [], outgoingAlternatives: [], problems: [] };
}

function lastText(server: XmlElement, name: string): string | undefined {
  const all = elements(server, name);
  const last = all[all.length - 1];
  return last ? textOf(last) : undefined;
}

// --- Thunderbird desktop (readFromXML + AccountConfig.replaceVariables) ---
// comm-central: mail/components/accountcreation/modules/readFromXML.sys.mjs, AccountConfig.sys.mjs

const TB_INCOMING_AUTH: Record<string, string> = {
  'password-cleartext': 'password-cleartext',
  plain: 'password-cleartext',
  'password-encrypted': 'password-encrypted',
  secure: 'password-encrypted',
  GSSAPI: 'GSSAPI',
  NTLM: 'NTLM',
  'TLS-client-cert': 'TLS-client-cert',
  // OAuth2 counts only for hosts in Thunderbird's built-in OAuth2 provider list; ours are not.
};
const TB_OUTGOING_AUTH: Record<string, string> = {
  ...TB_INCOMING_AUTH,
  none: 'none',
  'client-IP-address': 'client-IP-address',
  'smtp-after-pop': 'smtp-after-pop',
};

/** Thunderbird's host name sanitising: trimmed; placeholder forms pass as they are, else lower-cased. */
function tbHostname(raw: string): string | null {
  const value = raw.trim();
  if (/^[A-Za-z0-9.-]*(%[A-Z0-9]+%[A-Za-z0-9.-]*)+$/.test(value)) return value;
  return isHostName(value) ? value.toLowerCase() : null;
}

function tbServer(el: XmlElement, auth: Record<string, string>): ClientServer | null {
  const first = (name: string): string | undefined => {
    const found = elements(el, name)[0];
    return found ? textOf(found) : undefined;
  };
  const hostname = tbHostname(first('hostname') ?? '');
  const portText = first('port') ?? '';
  const port = /^\s*\d+\s*$/.test(portText) ? Number(portText) : NaN;
  const socketType = elements(el, 'socketType')
    .map(textOf)
    .find((v) => v === 'plain' || v === 'SSL' || v === 'STARTTLS');
  const authentication = elements(el, 'authentication')
    .map((a) => auth[textOf(a)])
    .find((v) => v !== undefined);
  if (hostname === null || !(port >= 1 && port <= 65535) || socketType === undefined || authentication === undefined) return null;
  // A missing <username> becomes the string "undefined" in Thunderbird.
  return { type: el.attrs.get('type') ?? '', hostname, port, socketType, username: first('username') ?? 'undefined', authentication };
}

function readThunderbird(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  const reject = (why: string): ClientReading => {
    r.problems.push(`thunderbird: rejects the document: ${why}`);
    return r;
  };
  if (!doc.root) return reject('not well-formed XML');
  const provider = doc.root.name === 'clientConfig' ? elements(doc.root, 'emailProvider')[0] : undefined;
  if (!provider) return reject('no clientConfig > emailProvider');
  const id = provider.attrs.get('id');
  if (id === undefined) return reject('emailProvider has no id');
  if (tbHostname(id) === null) return reject(`emailProvider id ${quote(id)} is not a valid host name`);
  // JXON (mailnews/base/src/JXON.sys.mjs, verbosity 1) turns an element with an attribute
  // into an object ({ "@purpose": "mx", value: ... }); Sanitizer.hostname(String(object))
  // then fails and readFromXML skips that <domain> (logging the error), keeping the others.
  for (const d of elements(provider, 'domain')) {
    const kept = d.attrs.size === 0 && !hasElementChildren(d) ? tbHostname(textOf(d)) : null;
    if (kept !== null) r.domains.push(kept);
  }
  if (r.domains.length === 0) return reject('no valid <domain>');

  const incoming: ClientServer[] = [];
  const outgoing: ClientServer[] = [];
  for (const el of mailServers(provider)) {
    const server = tbServer(el, el.name === 'incomingServer' ? TB_INCOMING_AUTH : TB_OUTGOING_AUTH);
    if (server) (el.name === 'incomingServer' ? incoming : outgoing).push(server);
  }
  if (incoming.length === 0) r.problems.push('thunderbird: rejects the document: no usable incoming server');
  if (outgoing.length === 0) r.problems.push('thunderbird: rejects the document: no usable outgoing server');
  if (incoming.length === 0 || outgoing.length === 0) return r;

  const replaced = (s: ClientServer): ClientServer => ({ ...s, hostname: substitute(s.hostname, email), username: substitute(s.username, email) });
  const [firstIn, ...restIn] = incoming;
  const [firstOut, ...restOut] = outgoing;
  r.incoming = firstIn ? replaced(firstIn) : null;
  r.incomingAlternatives = restIn.map(replaced);
  r.outgoing = firstOut ? replaced(firstOut) : null;
  r.outgoingAlternatives = restOut; // Thunderbird does not substitute these.
  return r;
}

// --- Thunderbird for Android / K-9 (RealAutoconfigParser) ---
// thunderbird-android: feature/autodiscovery/autoconfig/src/main/kotlin/app/k9mail/autodiscovery/autoconfig/RealAutoconfigParser.kt

const TFA_AUTH = new Set(['OAuth2', 'password-cleartext', 'password-encrypted']);

function readThunderbirdAndroid(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  const reject = (why: string): ClientReading => {
    r.problems.push(`thunderbird-android: rejects the document: ${why}`);
    return r;
  };
  if (doc.hasBom) return reject('UTF-8 byte order mark');
  if (!doc.root) return reject('not well-formed XML');
  if (doc.root.name !== 'clientConfig') return reject(`root element is <${doc.root.name}>, not <clientConfig>`);
  const provider = elements(doc.root, 'emailProvider')[0];
  if (!provider) return reject('no <emailProvider>');
  const id = provider.attrs.get('id');
  if (id === undefined) return reject('emailProvider has no id');
  if (!isHostName(id)) return reject(`emailProvider id ${quote(id)} is not a valid host name`);
  const checkValue = (v: string): string => substitute(v, email ?? STAND_IN_ADDRESS);
  // RealAutoconfigParser reads a <domain>'s text and ignores its attributes.
  r.domains = elements(provider, 'domain')
    .filter((d) => !hasElementChildren(d) && isHostName(checkValue(textOf(d))))
    .map((d) => substitute(textOf(d), email));
  if (r.domains.length === 0) return reject('no valid <domain>');

  const incoming: ClientServer[] = [];
  const outgoing: ClientServer[] = [];
  for (const el of mailServers(provider)) {
    const type = el.attrs.get('type') ?? '';
    if (type === 'pop3') continue; // only imap and smtp are parsed at all
    const label = serverLabel(el);
    for (const field of SERVER_FIELDS) {
      const bad = elements(el, field).find(hasElementChildren);
      if (bad) return reject(`${label}: <${field}> contains elements where text is expected`);
    }
    const hostname = lastText(el, 'hostname');
    const portText = lastText(el, 'port');
    const socketType = lastText(el, 'socketType');
    const username = lastText(el, 'username');
    if (hostname === undefined) return reject(`${label}: missing <hostname>`);
    if (portText === undefined) return reject(`${label}: missing <port>`);
    if (socketType === undefined) return reject(`${label}: missing <socketType>`);
    if (username === undefined) return reject(`${label}: missing <username>`);
    if (!isHostName(checkValue(hostname))) return reject(`${label}: hostname ${quote(hostname)} is not a valid host name`);
    const port = /^[+-]?\d+$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 0 && port <= 65535)) return reject(`${label}: port ${quote(portText)} is not a number in 0-65535`);
    if (socketType !== 'SSL' && socketType !== 'STARTTLS') return reject(`${label}: socketType ${quote(socketType)} is not SSL or STARTTLS`);
    const authentication = elements(el, 'authentication')
      .map(textOf)
      .find((a) => TFA_AUTH.has(a));
    if (authentication === undefined) return reject(`${label}: no recognised <authentication>`);
    const server = { type, hostname: substitute(hostname, email), port, socketType, username: substitute(username, email), authentication };
    (type === 'imap' ? incoming : outgoing).push(server);
  }
  if (incoming.length === 0) r.problems.push('thunderbird-android: no usable incoming server');
  if (outgoing.length === 0) r.problems.push('thunderbird-android: no usable outgoing server');
  if (incoming.length === 0 || outgoing.length === 0) return r;
  r.incoming = incoming[0] ?? null;
  r.incomingAlternatives = incoming.slice(1);
  r.outgoing = outgoing[0] ?? null;
  r.outgoingAlternatives = outgoing.slice(1);
  return r;
}

// --- FairEmail (EmailProvider.getISPDB: a pull parser over the whole document) ---
// FairEmail: app/src/main/java/eu/faircode/email/EmailProvider.java

interface FairEmailServer {
  type: 'imap' | 'smtp';
  host: string;
  port: number;
  starttls: boolean;
  username: string;
}

function readFairEmail(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  if (!doc.root) {
    r.problems.push('fairemail: rejects the document: not well-formed XML');
    return r;
  }
  let current: FairEmailServer | null = null;
  let imap: FairEmailServer | null = null;
  let smtp: FairEmailServer | null = null;
  let failure: string | null = null;

  const visit = (el: XmlElement): void => {
    if (failure !== null) return;
    const type = el.attrs.get('type');
    if ((el.name === 'incomingServer' && type === 'imap') || (el.name === 'outgoingServer' && type === 'smtp')) {
      const server: FairEmailServer = { type: type, host: '', port: 0, starttls: false, username: '' };
      current = server;
      for (const kid of elements(el)) visit(kid);
      if (type === 'imap') imap = server;
      else smtp = server;
      current = null;
      return;
    }
    const server: FairEmailServer | null = current;
    if (server !== null) {
      const text = textOf(el);
      switch (el.name) {
        case 'hostname':
          server.host = text;
          break;
        case 'port': {
          if (!/^[+-]?\d+$/.test(text)) {
            failure = `${el.path}: port ${quote(text)} is not a number`;
            return;
          }
          server.port = Number(text);
          // The port alone decides STARTTLS until a later <socketType> says otherwise.
          server.starttls = server.type === 'imap' ? server.port === 143 : server.port === 587;
          break;
        }
        case 'socketType':
          if (text === 'SSL') server.starttls = false;
          else if (text === 'STARTTLS') server.starttls = true;
          // anything else (plain included) is only logged
          break;
        case 'username':
          server.username = text;
          break;
      }
    }
    for (const kid of elements(el)) visit(kid);
  };
  visit(doc.root);
  if (failure !== null) {
    r.problems.push(`fairemail: rejects the document: ${failure}`);
    return r;
  }
  const { local } = splitAddress(email ?? '');
  const toClient = (s: FairEmailServer): ClientServer => {
    let username = s.username;
    if (email !== undefined && username === '%EMAILADDRESS%') username = email;
    else if (email !== undefined && username === '%EMAILLOCALPART%') username = local;
    return { type: s.type, hostname: s.host, port: s.port, socketType: s.starttls ? 'STARTTLS' : 'SSL', username, authentication: '' };
  };
  const usable = (s: FairEmailServer | null): s is FairEmailServer => s !== null && s.host !== '' && s.port > 0;
  const lastImap = imap as FairEmailServer | null;
  const lastSmtp = smtp as FairEmailServer | null;
  if (usable(lastImap)) r.incoming = toClient(lastImap);
  else r.problems.push('fairemail: no usable incoming server');
  if (usable(lastSmtp)) r.outgoing = toClient(lastSmtp);
  else r.problems.push('fairemail: no usable outgoing server');
  return r;
}

// --- Evolution (e-mail-autoconfig.c: GMarkup, one slot per protocol) ---
// Evolution: src/mail/e-mail-autoconfig.c

interface EvolutionSlot {
  hostname: string;
  port: number;
  socketType: string;
  username: string;
  authentication: string;
}

function readEvolution(doc: AutoconfigDoc, email: string | undefined): ClientReading {
  const r = emptyReading();
  if (doc.hasBom) {
    r.problems.push('evolution: rejects the document: UTF-8 byte order mark');
    return r;
  }
  if (!doc.root) {
    r.problems.push('evolution: rejects the document: not well-formed XML');
    return r;
  }
  const slots: Record<'imap' | 'pop3' | 'smtp', EvolutionSlot> = {
    imap: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
    pop3: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
    smtp: { hostname: '', port: 0, socketType: '', username: '', authentication: '' },
  };
  const visit = (el: XmlElement, slot: EvolutionSlot | null): void => {
    const type = el.attrs.get('type');
    if (el.name === 'incomingServer' && (type === 'imap' || type === 'pop3')) slot = slots[type];
    else if (el.name === 'outgoingServer' && type === 'smtp') slot = slots.smtp;
    else if (slot !== null) {
      // Every text node overwrites the slot's field; an empty element sends no text at all.
      const text = substitute(textOf(el), email);
      if (text !== '') {
        switch (el.name) {
          case 'hostname':
            slot.hostname = text;
            break;
          case 'username':
            slot.username = text;
            break;
          case 'port': {
            const port = /^\d+$/.test(text) ? Number(text) : NaN;
            if (port >= 1 && port <= 65535) slot.port = port;
            break;
          }
          case 'socketType':
            if (text === 'plain' || text === 'SSL' || text === 'STARTTLS') slot.socketType = text;
            break;
          case 'authentication':
            if (text === 'password-cleartext' || text === 'plain') slot.authentication = 'password-cleartext';
            else if (text === 'password-encrypted') slot.authentication = 'password-encrypted';
            break;
        }
      }
    }
    for (const kid of elements(el)) visit(kid, slot);
  };
  visit(doc.root, null);
  const usable = (type: 'imap' | 'pop3' | 'smtp'): ClientServer | null => {
    const s = slots[type];
    return s.hostname !== '' && s.port > 0 ? { type, ...s } : null;
  };
  const imap = usable('imap');
  const pop3 = usable('pop3');
  r.incoming = imap ?? pop3;
  if (imap && pop3) r.incomingAlternatives = [pop3];
  r.outgoing = usable('smtp');
  if (!r.incoming) r.problems.push('evolution: no usable incoming server');
  if (!r.outgoing) r.problems.push('evolution: no usable outgoing server');
  return r;
}
