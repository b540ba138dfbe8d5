// A real app on a fixture directory, with logs captured and every XML answer read by
// the client-rules checker, so no test can see a response a real client would reject.
import type { Test } from 'tap';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { configFromEnv, type Config } from '../../src/config/config.js';
import { createDialects } from '../../src/dialects/index.js';
import { poxRequestBody } from '../../src/dialects/autodiscover-pox.js';
import type { Directory } from '../../src/directory/directory.js';
import { SqliteDirectory } from '../../src/directory/sqlite.js';
import { buildApp } from '../../src/http/app.js';
import type { ImportAccount } from '../../src/model/account.js';
import { defaultProvider, type ProviderProfile } from '../../src/policy/provider-profile.js';
import type { ProfileSigner } from '../../src/signing/profile-signer.js';
import { Templates } from '../../src/templates.js';
import { readAutoconfig, type AutoconfigReading } from './autoconfig-clients.js';
import { readAutodiscover, type AutodiscoverReading } from './autodiscover-clients.js';

const mailbox = (address: string, login: string) => ({ address, login });

/** One account per case the policy distinguishes. */
export const FIXTURE_ACCOUNTS: ImportAccount[] = [
  { username: 'oldtimer', created: '2009-03-14', mailServer: 123, domains: ['oldtimer-shop.example'], mailboxes: [mailbox('sales@oldtimer-shop.example', 'sales-oldtimer')] },
  { username: 'newbie', created: '2019-10-02T15:04:05Z', mailServer: null, domains: ['newbie.example', 'newbie-two.example'], mailboxes: [] },
  { username: 'lastday', created: '2011-06-01T03:59:59Z', mailServer: 12, domains: ['lastday.example'], mailboxes: [] },
  { username: 'firstday', created: '2011-06-01T04:00:00Z', mailServer: null, domains: ['firstday.example'], mailboxes: [] },
  { username: 'datelast', created: '2011-05-31', mailServer: 7, domains: ['datelast.example'], mailboxes: [] },
  { username: 'datefirst', created: '2011-06-01', mailServer: 9, domains: ['datefirst.example'], mailboxes: [] },
  { username: 'pairuser', created: '2015-08-20', mailServer: null, domains: [], mailboxes: [mailbox('pairuser@pair.com', 'pairuser-imap')] },
  { username: 'plainpair', created: '2016-01-01', mailServer: null, domains: [], mailboxes: [] },
  { username: 'noserver', created: '2005-01-01', mailServer: null, domains: ['broken-old.example'], mailboxes: [] },
  { username: 'bad_name', created: '2015-01-01', mailServer: null, domains: ['broken-new.example'], mailboxes: [] },
];

/** A directory whose every query fails, as a database that went away would. */
export class DownDirectory implements Directory {
  readonly description = 'down:';
  private fail(): never {
    throw new Error('connect ECONNREFUSED 127.0.0.1:5432 (password=secret)');
  }
  async findByDomain() { return this.fail(); }
  async findByUsername() { return this.fail(); }
  async importAccounts() { return this.fail(); }
  async importStream() { return this.fail(); }
  async getAccount() { return this.fail(); }
  async deleteAccount() { return this.fail(); }
  async deleteDomain() { return this.fail(); }
  // eslint-disable-next-line require-yield
  async *exportAccounts() { this.fail(); }
  // eslint-disable-next-line require-yield
  async *allAccounts() { this.fail(); }
  async counts() { return this.fail(); }
  async ping() { return this.fail(); }
  async close() {}
}

export interface TestApp {
  app: FastifyInstance;
  directory: Directory;
  config: Config;
  /** Every log line written so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The raw log output, for "never logged" checks. */
  rawLogs(): string;
}

export async function testApp(
  t: Test,
  options: { env?: NodeJS.ProcessEnv; directory?: Directory; profileSigner?: ProfileSigner; profile?: ProviderProfile } = {},
): Promise<TestApp> {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  let directory = options.directory;
  if (!directory) {
    const sqlite = new SqliteDirectory(':memory:');
    await sqlite.importAccounts(FIXTURE_ACCOUNTS, { replace: true });
    directory = sqlite;
  }
  const config = configFromEnv({ PUBLIC_URL: 'https://mailconf.pair-test.example', SERVICE_HOSTS: 'autoconfig.pair.com', ...options.env });
  const secret = config.secret ?? 'test-instance-secret-0123456789';
  const profile = options.profile ?? defaultProvider;
  const dialects = createDialects({ templates: new Templates(), profile, publicUrl: config.publicUrl, secret, signProfile: options.profileSigner?.sign });
  const app = await buildApp({ config, directory, directoryAdmin: directory, profile, dialects, secret }, logger);
  // Every XML body the app sends in any test, however the test asked for it, is read by
  // the client-rules checker; the test fails if any client would reject one.
  app.addHook('onSend', async (request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (typeof payload === 'string' && type.includes('xml') && payload !== '') {
      const reading = payload.includes('<clientConfig') ? readAutoconfig(payload) : readAutodiscover(payload);
      if (reading.problems.length > 0) t.fail(`${request.method} ${request.url}: a client would reject the XML answer`, { problems: reading.problems });
    }
    return payload;
  });
  t.teardown(async () => {
    await app.close();
    await directory.close();
  });
  return {
    app,
    directory,
    config,
    get logs() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    rawLogs: () => lines.join(''),
  };
}

export interface CheckedResponse {
  res: LightMyRequestResponse;
  autoconfig?: AutoconfigReading;
  autodiscover?: AutodiscoverReading;
}

/**
 * Injects a request; an XML answer is read by the client-rules checker and must have no
 * problems for any client. `email` is what the user typed, for placeholder substitution.
 */
export async function send(t: Test, app: FastifyInstance, opts: InjectOptions, email?: string): Promise<CheckedResponse> {
  const res = await app.inject(opts);
  const type = String(res.headers['content-type'] ?? '');
  if (!type.includes('xml') || opts.method === 'HEAD') return { res };
  if (res.body.includes('<clientConfig')) {
    const autoconfig = readAutoconfig(res.body, email);
    t.same(autoconfig.problems, [], `autoconfig answer for ${String(opts.url)} passes every client's rules`);
    return { res, autoconfig };
  }
  const autodiscover = readAutodiscover(res.body, email);
  t.same(autodiscover.problems, [], `autodiscover answer for ${String(opts.url)} passes every client's rules`);
  return { res, autodiscover };
}

/**
 * The Outlook POX request body for `address` (escaped), in the given response schema, as
 * Outlook sends it (with an XML declaration); `extra` is raw XML added to the Request.
 */
export function poxRequest(address: string | null, schema?: string, extra = ''): string {
  const body = poxRequestBody(address, schema).replace('<AcceptableResponseSchema>', `${extra}<AcceptableResponseSchema>`);
  return `<?xml version="1.0" encoding="utf-8"?>\n${body}`;
}
