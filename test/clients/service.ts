// Our service on loopback for a real client: one Fastify app behind a plain HTTP listener
// and a TLS listener (a test CA and a server certificate made here with openssl), so the
// app sees request.protocol 'https' on the second. Every request is recorded with its
// scheme, Host and path, so tests can tell which URL a client really fetched.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, createSecureContext, type TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { configFromEnv } from '../../src/config/config.js';
import { createDialects } from '../../src/dialects/index.js';
import type { ImportAccount } from '../../src/model/account.js';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { buildApp } from '../../src/http/app.js';
import { defaultProvider } from '../../src/policy/provider-profile.js';
import { Templates } from '../../src/templates.js';

export interface TestPki {
  /** The CA certificate, PEM. */
  caPem: string;
  /** The CA certificate, DER in base64, as nsIX509CertDB.addCertFromBase64 takes it. */
  caBase64: string;
  serverKey: string;
  serverCert: string;
  names: string[];
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A throw-away CA and a server certificate for `names`, made with the openssl command. */
export function makeTestPki(dir: string, names: string[]): TestPki {
  openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-sha256',
    '-subj', '/CN=mailconf client-test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const server = issueServerCertificate(dir, 'server', names);
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const caBase64 = caPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { caPem, caBase64, serverKey: server.key, serverCert: server.cert, names };
}

/**
 * Another server certificate (and key of its own) for `names`, from the CA makeTestPki made
 * in `dir`: files `<basename>.key` and `<basename>.pem` there.
 */
export function issueServerCertificate(dir: string, basename: string, names: string[]): { key: string; cert: string } {
  openssl(dir, ['req', ...EC_KEY, '-keyout', `${basename}.key`, '-out', `${basename}.csr`, '-subj', `/CN=mailconf client-test ${basename}`]);
  writeFileSync(
    join(dir, `${basename}.ext`),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ].join('\n') + '\n',
  );
  openssl(dir, ['x509', '-req', '-in', `${basename}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${basename}.pem`, '-days', '2', '-sha256', '-extfile', `${basename}.ext`]);
  return { key: readFileSync(join(dir, `${basename}.key`), 'utf8'), cert: readFileSync(join(dir, `${basename}.pem`), 'utf8') };
}

export interface RecordedRequest {
  scheme: 'http' | 'https';
  /** The TLS server name the client sent (https only). */
  sni?: string;
  method: string;
  host: string;
  url: string;
  status?: number;
  contentType?: string;
  location?: string;
  /** The response body, for XML answers: exactly the bytes the client read. */
  body?: string;
  /** Answered 404 by the test's front (failRequests), never reaching the app. */
  failedByTest?: true;
}

export interface TestService {
  app: FastifyInstance;
  ports: { http: number; https: number };
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  /** Every failed TLS handshake on the HTTPS port so far (a client refusing our certificate, say). */
  tlsErrors: Array<{ servername?: string; message: string }>;
  /** Makes TLS handshakes fail for server names matching `refuse` (none when undefined). */
  refuseTls(refuse: ((servername: string) => boolean) | undefined): void;
  /** Answers 404, before the app, every request matching `fail` (none when undefined). */
  failRequests(fail: ((request: RecordedRequest) => boolean) | undefined): void;
  /** The app's JSON log lines. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Where the service listens: by default 127.0.0.1, both ports chosen by the system. */
export interface ServiceListen {
  host: string;
  httpPort: number;
  httpsPort: number;
}

/**
 * Starts the service for `accounts` on 127.0.0.1 (or `listen`): HTTP on one port, HTTPS
 * (with `pki`) on another. `publicUrl` is PUBLIC_URL, where the service says it can be reached.
 */
export async function startTestService(
  accounts: ImportAccount[],
  pki: TestPki,
  publicUrl: string,
  listen: ServiceListen = { host: '127.0.0.1', httpPort: 0, httpsPort: 0 },
): Promise<TestService> {
  const directory = new SqliteDirectory(':memory:');
  await directory.importAccounts(accounts, { replace: true });
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  // A client set-up makes several requests per address; the suite makes many from one IP.
  const config = configFromEnv({ PUBLIC_URL: publicUrl, RATE_LIMIT_MAX: '1000000', HOST: '127.0.0.1', PORT: '0' });
  const secret = 'thunderbird-test-secret-0123456789';
  const dialects = createDialects({ templates: new Templates(), profile: defaultProvider, publicUrl: config.publicUrl, secret });
  const app = await buildApp({ config, directory, directoryAdmin: directory, profile: defaultProvider, dialects, secret }, logger);

  const requests: RecordedRequest[] = [];
  // The app's own request handler, behind the test's front: failRequests decides first.
  let fail: ((request: RecordedRequest) => boolean) | undefined;
  const appHandlers = app.server.listeners('request') as Array<(req: unknown, res: unknown) => void>;
  app.server.removeAllListeners('request');
  app.server.on('request', (req, res) => {
    const socket = req.socket as Partial<TLSSocket>;
    const record: RecordedRequest = {
      scheme: socket.encrypted ? 'https' : 'http',
      method: req.method ?? '',
      host: req.headers.host ?? '',
      url: req.url ?? '',
    };
    if (socket.encrypted && typeof socket.servername === 'string') record.sni = socket.servername;
    requests.push(record);
    if (fail?.(record)) {
      record.failedByTest = true;
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('failed by the test\n');
      return;
    }
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as typeof res.write;
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as typeof res.end;
    // Fastify hands its headers to writeHead, where getHeader() cannot see them.
    const sent: Record<string, string> = {};
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => typeof res;
    res.writeHead = ((...args: unknown[]) => {
      const headers = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null);
      if (headers) for (const [k, v] of Object.entries(headers)) sent[k.toLowerCase()] = String(v);
      return writeHead(...args);
    }) as typeof res.writeHead;
    res.once('finish', () => {
      record.status = res.statusCode;
      const type = sent['content-type'] ?? res.getHeader('content-type');
      if (type !== undefined) record.contentType = String(type);
      const location = sent.location ?? res.getHeader('location');
      if (location !== undefined) record.location = String(location);
      if (record.contentType?.includes('xml')) record.body = Buffer.concat(chunks).toString('utf8');
    });
    for (const handler of appHandlers) handler(req, res);
  });

  await app.listen({ host: listen.host, port: listen.httpPort });
  const httpPort = (app.server.address() as AddressInfo).port;

  let refuse: ((servername: string) => boolean) | undefined;
  const tlsSockets = new Set<TLSSocket>();
  const context = createSecureContext({ key: pki.serverKey, cert: pki.serverCert });
  const tlsServer = createTlsServer({
    key: pki.serverKey,
    cert: pki.serverCert,
    SNICallback: (servername, cb) => {
      if (refuse?.(servername)) cb(new Error(`TLS refused for ${servername} by the test`), undefined);
      else cb(null, context);
    },
  });
  // One app serves both: a TLS connection, once decrypted, is an HTTP connection.
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    tlsSockets.add(socket);
    socket.once('close', () => tlsSockets.delete(socket));
    app.server.emit('connection', socket);
  });
  const tlsErrors: TestService['tlsErrors'] = [];
  tlsServer.on('tlsClientError', (err: Error, socket: TLSSocket) => {
    const servername = typeof socket.servername === 'string' ? socket.servername : undefined;
    tlsErrors.push({ ...(servername ? { servername } : {}), message: err.message });
  });
  await new Promise<void>((resolve, reject) => {
    tlsServer.once('error', reject);
    tlsServer.listen({ host: listen.host, port: listen.httpsPort }, () => resolve());
  });
  const httpsPort = (tlsServer.address() as AddressInfo).port;

  return {
    app,
    ports: { http: httpPort, https: httpsPort },
    requests,
    tlsErrors,
    refuseTls(fn) {
      refuse = fn;
      // A client keeps its connections open and resumes TLS sessions, which skips the
      // server-name check: close the connections and void every session ticket, so the next
      // request makes a full handshake again.
      for (const socket of tlsSockets) socket.destroy();
      tlsSockets.clear();
      tlsServer.setTicketKeys(randomBytes(48));
    },
    failRequests(fn) {
      fail = fn;
    },
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await app.close();
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      await directory.close();
    },
  };
}
