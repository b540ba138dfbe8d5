// Reads an Outlook autodiscover answer (POX) the way Thunderbird and Delta Chat do, and
// lists every format problem one of them (or Outlook) would trip over.
//
// Format rules follow Microsoft's [MS-OXDSCLI] (Autodiscover Publishing and Lookup
// Protocol) and its "POX Autodiscover XML elements" reference. The client models follow
// Thunderbird's mail/components/accountcreation/modules/ExchangeAutoDiscover.sys.mjs and
// Delta Chat's src/configure/auto_outlook.rs; they are our own code and cover only what our
// answers can contain.

import { isHostName, parseOrReport, quote } from './check-helpers.js';
import { elementsByLocal, hasElementChildren, textOf, walk, type XmlElement } from './xml-reader.js';

export const AUTODISCOVER_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
export const OUTLOOK_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';
export const MOBILESYNC_RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006';

export interface PoxServer {
  type: 'IMAP' | 'POP3' | 'SMTP';
  server: string;
  port: number;
  socketType: 'SSL' | 'STARTTLS' | 'plain';
  auth: 'password-cleartext' | 'secure';
  username: string;
}

export interface DeltaChatServer {
  server: string;
  port: number;
  security: 'automatic' | 'plain';
}

export interface AutodiscoverReading {
  problems: string[];
  /** Present when the document is an Exchange-style error: Response/Error with ErrorCode. */
  error: { code: number; message: string; responseNamespace: string; time: string; id: string } | null;
  /** Thunderbird's ExchangeAutoDiscover reading: first IMAP/POP3 = incoming, others alternatives; first SMTP = outgoing. Username = LoginName or, when absent, `email`. */
  thunderbird: { incoming: PoxServer | null; outgoing: PoxServer | null; incomingAlternatives: PoxServer[]; outgoingAlternatives: PoxServer[] };
  /** Delta Chat's reading: IMAP and SMTP Protocols in order, Type/Server/Port/SSL only (SSL on -> 'automatic', off -> 'plain'). */
  deltaChat: { imap: DeltaChatServer[]; smtp: DeltaChatServer[] };
}

const IMPLICIT_TLS_PORTS = new Set([993, 995, 465]);
const STARTTLS_PORTS = new Set([143, 110, 587]);
/** Ports Thunderbird assumes STARTTLS for when reading POX. */
const TB_STARTTLS_PORTS = new Set([143, 110, 25, 587]);

function child(el: XmlElement | undefined, local: string): XmlElement | undefined {
  return el ? elementsByLocal(el, local)[0] : undefined;
}

export function readAutodiscover(body: string, email?: string): AutodiscoverReading {
  const reading: AutodiscoverReading = {
    problems: [],
    error: null,
    thunderbird: { incoming: null, outgoing: null, incomingAlternatives: [], outgoingAlternatives: [] },
    deltaChat: { imap: [], smtp: [] },
  };
  const p = reading.problems;
  const root = parseOrReport(body, p);

  const response = root ? elementsByLocal(root, 'Response') : [];
  const errorEl = child(response[0], 'Error');
  if (root) {
    if (root.local !== 'Autodiscover') p.push(`root element is <${root.name}>, expected <Autodiscover>`);
    else if (root.ns !== AUTODISCOVER_NS) p.push(`<Autodiscover> is in namespace ${quote(root.ns)}, expected ${quote(AUTODISCOVER_NS)}`);
    if (response.length === 0) p.push('no <Response> element');
    else if (response.length > 1) p.push(`${response.length} <Response> elements, expected one`);
  }
  const first = response[0];
  if (first && errorEl) {
    p.push(...errorProblems(errorEl));
    const codeEl = child(errorEl, 'ErrorCode');
    if (codeEl) {
      const codeText = textOf(codeEl).trim();
      const messageEl = child(errorEl, 'Message');
      reading.error = {
        code: /^\d+$/.test(codeText) ? Number(codeText) : NaN,
        message: messageEl ? textOf(messageEl) : '',
        responseNamespace: first.ns,
        time: errorEl.attrs.get('Time') ?? '',
        id: errorEl.attrs.get('Id') ?? '',
      };
    }
  } else if (first) {
    p.push(...settingsProblems(first));
  }
  if (root) {
    walk(root, (el) => {
      if (!hasElementChildren(el)) {
        const text = textOf(el);
        if (text !== text.trim()) p.push(`${el.path}: text ${quote(text)} has leading or trailing whitespace`);
      }
    });
  }

  // Client readings: element local names, Autodiscover/Response/Account/Protocol.
  const account = root?.local === 'Autodiscover' ? child(first, 'Account') : undefined;
  const protocols = account ? elementsByLocal(account, 'Protocol') : [];
  readThunderbirdPox(protocols, email, reading);
  readDeltaChatPox(protocols, reading);
  // An error document is a legitimate answer: its own rules are checked above.
  if (!errorEl) {
    if (protocols.length === 0) p.push('thunderbird: no_autodiscover');
    else {
      if (!reading.thunderbird.incoming) p.push('thunderbird: no usable incoming server');
      if (!reading.thunderbird.outgoing) p.push('thunderbird: no usable outgoing server');
    }
    if (reading.deltaChat.imap.length === 0) p.push('deltachat: no IMAP Protocol');
    if (reading.deltaChat.smtp.length === 0) p.push('deltachat: no SMTP Protocol');
  }
  return reading;
}

// An error Response may be in any namespace: Exchange's generic one, the Outlook or
// mobilesync schema, or the (unknown) schema the client asked for with a 601.
function errorProblems(error: XmlElement): string[] {
  const p: string[] = [];
  const time = error.attrs.get('Time');
  if (time === undefined) p.push('<Error> has no Time attribute');
  else if (!/^\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(time)) p.push(`<Error> Time ${quote(time)} is not HH:MM:SS[.fraction]`);
  const id = error.attrs.get('Id');
  if (id === undefined) p.push('<Error> has no Id attribute');
  else if (!/^\d+$/.test(id)) p.push(`<Error> Id ${quote(id)} is not an unsigned integer`);
  const code = child(error, 'ErrorCode');
  if (!code) p.push('<Error> has no <ErrorCode>');
  else if (!/^\d+$/.test(textOf(code).trim())) p.push(`<ErrorCode> ${quote(textOf(code))} is not an integer`);
  if (!child(error, 'Message')) p.push('<Error> has no <Message>');
  if (!child(error, 'DebugData')) p.push('<Error> has no <DebugData>');
  return p;
}

function settingsProblems(response: XmlElement): string[] {
  const p: string[] = [];
  if (response.ns !== OUTLOOK_RESPONSE_NS) p.push(`<Response> is in namespace ${quote(response.ns)}, expected ${quote(OUTLOOK_RESPONSE_NS)}`);
  const account = child(response, 'Account');
  if (!account) {
    p.push('<Response> has neither <Account> nor <Error>');
    return p;
  }
  const expect = (parent: XmlElement, name: string, wanted: string, label = ''): void => {
    const el = child(parent, name);
    if (!el) p.push(`${label}missing <${name}>`);
    else if (textOf(el).trim() !== wanted) p.push(`${label}<${name}> is ${quote(textOf(el))}, expected ${quote(wanted)}`);
  };
  expect(account, 'AccountType', 'email');
  expect(account, 'Action', 'settings');
  const protocols = elementsByLocal(account, 'Protocol');
  if (protocols.length === 0) p.push('<Account> has no <Protocol>');

  protocols.forEach((protocol, i) => {
    const typeEl = child(protocol, 'Type');
    const type = typeEl ? textOf(typeEl).trim() : '';
    const label = `Protocol[${i + 1}] (${type || 'no Type'}): `;
    if (!typeEl) p.push(`${label}missing <Type>`);
    else if (type !== 'IMAP' && type !== 'POP3' && type !== 'SMTP') p.push(`${label}<Type> ${quote(type)} is not IMAP, POP3 or SMTP`);
    const serverEl = child(protocol, 'Server');
    if (!serverEl) p.push(`${label}missing <Server>`);
    else if (!isHostName(textOf(serverEl).trim())) p.push(`${label}<Server> ${quote(textOf(serverEl))} is not a valid host name`);
    const portEl = child(protocol, 'Port');
    const portText = portEl ? textOf(portEl).trim() : '';
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!portEl) p.push(`${label}missing <Port>`);
    else if (!(port >= 1 && port <= 65535)) p.push(`${label}<Port> ${quote(portText)} is not a number in 1-65535`);
    expect(protocol, 'DomainRequired', 'off', label);
    expect(protocol, 'SPA', 'off', label);
    expect(protocol, 'SSL', 'on', label);
    const encEl = child(protocol, 'Encryption');
    const enc = encEl ? textOf(encEl).trim() : '';
    if (!encEl) p.push(`${label}missing <Encryption>`);
    else if (enc !== 'SSL' && enc !== 'TLS') p.push(`${label}<Encryption> ${quote(enc)} is not SSL or TLS`);
    else if (!Number.isNaN(port)) {
      if (enc === 'TLS' && IMPLICIT_TLS_PORTS.has(port)) p.push(`${label}<Encryption> TLS on implicit-TLS port ${port} (Outlook would try STARTTLS)`);
      else if (enc === 'TLS' && !STARTTLS_PORTS.has(port)) p.push(`${label}<Encryption> TLS on port ${port} (Thunderbird guesses implicit TLS from the port)`);
      else if (enc === 'SSL' && TB_STARTTLS_PORTS.has(port)) p.push(`${label}<Encryption> SSL on port ${port} (Thunderbird guesses STARTTLS from the port)`);
    }
    expect(protocol, 'AuthRequired', 'on', label);
    if (type === 'SMTP') {
      expect(protocol, 'UsePOPAuth', 'on', label);
      expect(protocol, 'SMTPLast', 'off', label);
    }
    const login = child(protocol, 'LoginName');
    if (login && textOf(login).trim() === '') p.push(`${label}<LoginName> is empty`);
  });
  const types = protocols.map((pr) => textOf(child(pr, 'Type') ?? pr).trim());
  const firstIncoming = types.find((t) => t === 'IMAP' || t === 'POP3');
  if (firstIncoming === undefined) p.push('no IMAP or POP3 Protocol');
  else if (firstIncoming !== 'IMAP') p.push(`first incoming Protocol is ${firstIncoming}, expected IMAP`);
  return p;
}

function readThunderbirdPox(protocols: XmlElement[], email: string | undefined, reading: AutodiscoverReading): void {
  const incoming: PoxServer[] = [];
  const outgoing: PoxServer[] = [];
  for (const protocol of protocols) {
    const value = (name: string): string | undefined => {
      const el = child(protocol, name);
      return el ? textOf(el) : undefined;
    };
    const type = value('Type');
    if (type !== 'IMAP' && type !== 'POP3' && type !== 'SMTP') continue;
    const server = (value('Server') ?? '').trim();
    if (!isHostName(server)) continue;
    const portText = (value('Port') ?? '').trim();
    const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) continue;
    const socketType: PoxServer['socketType'] =
      value('SSL') === 'off' || value('Encryption') === 'None' ? 'plain' : TB_STARTTLS_PORTS.has(port) ? 'STARTTLS' : 'SSL';
    // SPA defaults to "on" when absent, and Thunderbird maps it to secure (NTLM/GSSAPI) auth.
    const spa = value('SPA') ?? 'on';
    const login = value('LoginName');
    const entry: PoxServer = {
      type,
      server: server.toLowerCase(),
      port,
      socketType,
      auth: spa === 'on' ? 'secure' : 'password-cleartext',
      username: login !== undefined && login !== '' ? login : (email ?? '%EMAILADDRESS%'),
    };
    (type === 'SMTP' ? outgoing : incoming).push(entry);
  }
  const tb = reading.thunderbird;
  tb.incoming = incoming[0] ?? null;
  tb.incomingAlternatives = incoming.slice(1);
  tb.outgoing = outgoing[0] ?? null;
  tb.outgoingAlternatives = outgoing.slice(1);
}

function readDeltaChatPox(protocols: XmlElement[], reading: AutodiscoverReading): void {
  for (const protocol of protocols) {
    const value = (name: string): string => {
      const el = child(protocol, name);
      return el ? textOf(el).trim() : '';
    };
    const type = value('Type').toLowerCase();
    if (type !== 'imap' && type !== 'smtp') continue;
    const server = value('Server');
    if (server === '') continue;
    const port = /^\d+$/.test(value('Port')) ? Number(value('Port')) : 0;
    const security = value('SSL').toLowerCase() === 'off' ? 'plain' : 'automatic';
    reading.deltaChat[type].push({ server, port, security });
  }
}
