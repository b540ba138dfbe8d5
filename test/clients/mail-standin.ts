// A stand-in IMAP and SMTP server for a real client's "log in to what you found" step:
// implicit TLS (IMAP 993, SMTP 465) and STARTTLS (IMAP 143, SMTP 587) on every address it
// is given, with one certificate for all the mail hosts' names. It speaks just enough for a
// client to consider the login good (greeting, CAPABILITY / EHLO, STARTTLS, IMAP LOGIN and
// AUTHENTICATE PLAIN, SMTP AUTH PLAIN and LOGIN; anything else gets a plain OK) and records
// every connection: which local address (so which host) and port it came in on, the TLS
// mode, the TLS server name and the login. Any login is accepted: the test asserts which.
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';

export type MailProtocol = 'imap' | 'smtp';
export type TlsMode = 'implicit' | 'starttls';

export interface MailConnection {
  protocol: MailProtocol;
  /** The address the client connected to: each mail host has its own. */
  address: string;
  port: number;
  /** How the connection was meant to be secured (by its port), and whether TLS was reached. */
  tlsMode: TlsMode;
  tls: boolean;
  /** The TLS server name the client sent. */
  sni?: string;
  /** The login name of the first successful authentication, and the mechanism. */
  login?: string;
  password?: string;
  mechanism?: 'LOGIN' | 'AUTHENTICATE PLAIN' | 'AUTH PLAIN' | 'AUTH LOGIN';
  /** A login tried before TLS (a failure of the client: it is refused). */
  plaintextLogin?: boolean;
  /** Why the TLS handshake failed, when it did (the client refusing our certificate, say). */
  tlsError?: string;
  /** Closed at once by the test (refuse), before any greeting. */
  refused?: boolean;
  /** Command verbs in order, for failure messages. */
  commands: string[];
}

export const MAIL_PORTS: Record<number, { protocol: MailProtocol; tlsMode: TlsMode }> = {
  993: { protocol: 'imap', tlsMode: 'implicit' },
  143: { protocol: 'imap', tlsMode: 'starttls' },
  465: { protocol: 'smtp', tlsMode: 'implicit' },
  587: { protocol: 'smtp', tlsMode: 'starttls' },
};

export interface MailStandIn {
  connections: MailConnection[];
  /** Closes at once every new connection matching `refuse` (none when undefined). */
  refuse(refuse: ((address: string, port: number) => boolean) | undefined): void;
  /** Presents `tls` instead of the mail hosts' certificate on new connections (the default again when undefined). */
  presentCertificate(tls: { key: string; cert: string } | undefined): void;
  close(): Promise<void>;
}

/** Bytes a client may send in one line before the connection is dropped. */
const MAX_LINE = 8192;
/** An idle connection is dropped after this. */
const IDLE_MS = 15_000;

/** A line reader over a socket that can be swapped for its TLS successor mid-stream. */
class LineConnection {
  private buffer = '';
  private socket: Socket;
  /** What to do with each line: set by the protocol once the connection is served. */
  onLine: (line: string) => void = () => undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buffer += chunk.toString('latin1');
    if (this.buffer.length > MAX_LINE && !this.buffer.includes('\n')) this.socket.destroy();
    let i: number;
    while ((i = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.onLine(line);
    }
  };

  constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    socket.on('data', this.onData);
    socket.on('error', () => undefined);
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  end(text: string): void {
    this.socket.end(text);
  }

  /** Upgrades to TLS as a server; `onSecure` runs once the handshake is done. */
  startTls(context: SecureContext, onSecure: (tls: TLSSocket) => void, onError: (err: Error) => void): void {
    const plain = this.socket;
    plain.removeListener('data', this.onData);
    this.buffer = '';
    const tls = new TLSSocket(plain, { isServer: true, secureContext: context });
    tls.once('secure', () => onSecure(tls));
    tls.once('error', onError);
    this.attach(tls);
  }
}

function decodePlain(b64: string): { login: string; password: string } | undefined {
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  return parts.length === 3 ? { login: parts[1]!, password: parts[2]! } : undefined;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** IMAP: an astring (atom or quoted string) at the start of `s`, and the rest. */
function astring(s: string): [string, string] | undefined {
  s = s.trimStart();
  if (s.startsWith('"')) {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') out += s[++i] ?? '';
      else if (c === '"') return [out, s.slice(i + 1)];
      else out += c;
    }
    return undefined;
  }
  const m = /^([^\s"(){]+)(.*)$/.exec(s);
  return m ? [m[1]!, m[2]!] : undefined;
}

function serveImap(conn: LineConnection, record: MailConnection, context: SecureContext, secure: () => boolean, setSecure: (tls: TLSSocket) => void): void {
  let pendingAuth: string | undefined;
  const caps = () => `IMAP4rev1${secure() ? '' : ' STARTTLS LOGINDISABLED'} AUTH=PLAIN`;
  const loggedIn = (tag: string, login: string, password: string, mechanism: MailConnection['mechanism']) => {
    if (!secure()) {
      record.plaintextLogin = true;
      conn.write(`${tag} NO [PRIVACYREQUIRED] TLS first\r\n`);
      return;
    }
    if (record.login === undefined) Object.assign(record, { login, password, mechanism });
    conn.write(`${tag} OK [CAPABILITY ${caps()}] logged in\r\n`);
  };
  conn.write('* OK stand-in IMAP ready\r\n');
  conn.onLine = (line: string) => {
    if (pendingAuth !== undefined) {
      const tag = pendingAuth;
      pendingAuth = undefined;
      const creds = decodePlain(line.trim());
      if (creds) loggedIn(tag, creds.login, creds.password, 'AUTHENTICATE PLAIN');
      else conn.write(`${tag} BAD bad PLAIN response\r\n`);
      return;
    }
    const m = /^(\S+) (\S+)(.*)$/.exec(line);
    if (!m) return conn.write('* BAD no tag\r\n');
    const [, tag, verbRaw, rest] = m as unknown as [string, string, string, string];
    const verb = verbRaw.toUpperCase();
    record.commands.push(verb);
    switch (verb) {
      case 'CAPABILITY':
        return conn.write(`* CAPABILITY ${caps()}\r\n${tag} OK done\r\n`);
      case 'STARTTLS':
        if (secure()) return conn.write(`${tag} BAD already TLS\r\n`);
        conn.write(`${tag} OK begin TLS\r\n`);
        return conn.startTls(context, setSecure, (err) => (record.tlsError ??= err.message));
      case 'LOGIN': {
        const user = astring(rest);
        const pass = user && astring(user[1]);
        if (!user || !pass) return conn.write(`${tag} BAD LOGIN arguments (literals are not supported by the stand-in)\r\n`);
        return loggedIn(tag, user[0], pass[0], 'LOGIN');
      }
      case 'AUTHENTICATE': {
        const [mech, initial] = rest.trim().split(/\s+/);
        if (mech?.toUpperCase() !== 'PLAIN') return conn.write(`${tag} NO only PLAIN\r\n`);
        if (initial && initial !== '=') {
          const creds = decodePlain(initial);
          return creds ? loggedIn(tag, creds.login, creds.password, 'AUTHENTICATE PLAIN') : conn.write(`${tag} BAD bad PLAIN response\r\n`);
        }
        pendingAuth = tag;
        return conn.write('+ \r\n');
      }
      case 'ID':
        return conn.write(`* ID NIL\r\n${tag} OK done\r\n`);
      case 'LOGOUT':
        return conn.end(`* BYE stand-in\r\n${tag} OK bye\r\n`);
      default:
        return conn.write(`${tag} OK done\r\n`);
    }
  };
}

function serveSmtp(conn: LineConnection, record: MailConnection, context: SecureContext, secure: () => boolean, setSecure: (tls: TLSSocket) => void): void {
  let pending: { step: 'plain' } | { step: 'login-user' } | { step: 'login-pass'; login: string } | undefined;
  const authed = (login: string, password: string, mechanism: MailConnection['mechanism']) => {
    if (!secure()) {
      record.plaintextLogin = true;
      return conn.write('530 5.7.0 TLS first\r\n');
    }
    if (record.login === undefined) Object.assign(record, { login, password, mechanism });
    conn.write('235 2.7.0 authenticated\r\n');
  };
  conn.write('220 stand-in ESMTP ready\r\n');
  conn.onLine = (line: string) => {
    if (pending) {
      const p = pending;
      pending = undefined;
      const text = line.trim();
      if (p.step === 'plain') {
        const creds = decodePlain(text);
        return creds ? authed(creds.login, creds.password, 'AUTH PLAIN') : conn.write('501 bad PLAIN response\r\n');
      }
      if (p.step === 'login-user') {
        pending = { step: 'login-pass', login: Buffer.from(text, 'base64').toString('utf8') };
        return conn.write(`334 ${b64('Password:')}\r\n`);
      }
      return authed(p.login, Buffer.from(text, 'base64').toString('utf8'), 'AUTH LOGIN');
    }
    const [verbRaw = '', ...args] = line.trim().split(/\s+/);
    const verb = verbRaw.toUpperCase();
    record.commands.push(verb);
    switch (verb) {
      case 'EHLO':
        return conn.write(`250-stand-in\r\n${secure() ? '' : '250-STARTTLS\r\n'}250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n`);
      case 'HELO':
        return conn.write('250 stand-in\r\n');
      case 'STARTTLS':
        if (secure()) return conn.write('503 already TLS\r\n');
        conn.write('220 2.0.0 begin TLS\r\n');
        return conn.startTls(context, setSecure, (err) => (record.tlsError ??= err.message));
      case 'AUTH': {
        const mech = args[0]?.toUpperCase();
        if (mech === 'PLAIN') {
          if (args[1]) {
            const creds = decodePlain(args[1]);
            return creds ? authed(creds.login, creds.password, 'AUTH PLAIN') : conn.write('501 bad PLAIN response\r\n');
          }
          pending = { step: 'plain' };
          return conn.write('334 \r\n');
        }
        if (mech === 'LOGIN') {
          if (args[1]) {
            pending = { step: 'login-pass', login: Buffer.from(args[1], 'base64').toString('utf8') };
            return conn.write(`334 ${b64('Password:')}\r\n`);
          }
          pending = { step: 'login-user' };
          return conn.write(`334 ${b64('Username:')}\r\n`);
        }
        return conn.write('504 only PLAIN and LOGIN\r\n');
      }
      case 'QUIT':
        return conn.end('221 bye\r\n');
      default:
        return conn.write('250 ok\r\n');
    }
  };
}

/** Starts IMAP and SMTP, both TLS modes, on every one of `addresses` (ports 993, 143, 465, 587). */
export async function startMailStandIn(addresses: string[], tls: { key: string; cert: string }): Promise<MailStandIn> {
  const standard = createSecureContext({ key: tls.key, cert: tls.cert });
  let context = standard;
  const connections: MailConnection[] = [];
  const sockets = new Set<Socket>();
  let refuse: ((address: string, port: number) => boolean) | undefined;
  const servers: Server[] = [];

  const accept = (raw: Socket, port: number) => {
    const { protocol, tlsMode } = MAIL_PORTS[port]!;
    const record: MailConnection = { protocol, address: raw.localAddress ?? '', port, tlsMode, tls: false, commands: [] };
    connections.push(record);
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    if (refuse?.(record.address, port)) {
      record.refused = true;
      raw.destroy();
      return;
    }
    let secure = false;
    const setSecure = (s: TLSSocket) => {
      secure = true;
      record.tls = true;
      if (typeof s.servername === 'string') record.sni = s.servername;
    };
    const serve = protocol === 'imap' ? serveImap : serveSmtp;
    if (tlsMode === 'implicit') {
      const s = new TLSSocket(raw, { isServer: true, secureContext: context });
      s.on('error', (err) => (record.tlsError ??= err.message));
      s.once('secure', () => {
        setSecure(s);
        serve(new LineConnection(s), record, context, () => secure, setSecure);
      });
    } else {
      serve(new LineConnection(raw), record, context, () => secure, setSecure);
    }
  };

  for (const address of addresses) {
    for (const port of Object.keys(MAIL_PORTS).map(Number)) {
      const server = createServer((socket) => accept(socket, port));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port }, () => resolve());
      });
      servers.push(server);
    }
  }

  return {
    connections,
    refuse(fn) {
      refuse = fn;
    },
    presentCertificate(other) {
      context = other ? createSecureContext({ key: other.key, cert: other.cert }) : standard;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
