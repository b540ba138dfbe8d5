import t from 'tap';
import { ConfigError, configFromEnv, parseTrustProxy, parseWindow } from '../src/config/config.js';

t.test('defaults', async (t) => {
  const c = configFromEnv({});
  t.match(c, { host: '0.0.0.0', port: 8080, directoryUrl: 'sqlite:./data/directory.db', trustProxy: false, logLevel: 'info', logPretty: false });
  t.equal(c.publicUrl.href, 'http://localhost:8080/');
  t.same(c.serviceHosts, ['localhost']);
  t.same(c.rateLimit, { max: 120, timeWindow: 60_000 });
  t.same(c.connections, { headersTimeout: 10_000, requestTimeout: 20_000, keepAliveTimeout: 5_000, maxPerClient: 64 });
  t.equal(c.shutdownTimeout, 5_000);
});

t.test('environment overrides', async (t) => {
  const c = configFromEnv({
    PORT: '9000', HOST: '127.0.0.1', PUBLIC_URL: 'https://MailConf.Example.net', SERVICE_HOSTS: 'AutoConfig.Pair.com., mailconf.example.net ,',
    MAILCONF_DIRECTORY: 'sqlite:/tmp/x.db', RATE_LIMIT_MAX: '10', RATE_LIMIT_WINDOW: '30000', LOG_LEVEL: 'DEBUG', LOG_FORMAT: 'pretty', MAILCONF_PROVIDER: 'p.json',
  });
  t.match(c, { host: '127.0.0.1', port: 9000, directoryUrl: 'sqlite:/tmp/x.db', logLevel: 'debug', logPretty: true, providerFile: 'p.json' });
  t.same(c.serviceHosts, ['mailconf.example.net', 'autoconfig.pair.com']);
  t.same(c.rateLimit, { max: 10, timeWindow: 30000 });
});

t.test('RATE_LIMIT_WINDOW in milliseconds or words', async (t) => {
  const cases: Array<[string | undefined, number]> = [
    [undefined, 60_000], ['', 60_000], ['30000', 30_000], ['30 seconds', 30_000], ['1 minute', 60_000],
    ['2 minutes', 120_000], ['2h', 7_200_000], ['500ms', 500], ['10 s', 10_000], ['1 Hour', 3_600_000],
  ];
  for (const [raw, ms] of cases) t.equal(parseWindow(raw), ms, String(raw));
});

t.test('connection bounds and the shutdown deadline, in milliseconds or words', async (t) => {
  const c = configFromEnv({
    HEADERS_TIMEOUT: '2 seconds', REQUEST_TIMEOUT: '3000', KEEP_ALIVE_TIMEOUT: '500ms', MAX_CONNECTIONS_PER_CLIENT: '8', SHUTDOWN_TIMEOUT: '1 minute',
  });
  t.same(c.connections, { headersTimeout: 2000, requestTimeout: 3000, keepAliveTimeout: 500, maxPerClient: 8 });
  t.equal(c.shutdownTimeout, 60_000);
  t.same(configFromEnv({ HEADERS_TIMEOUT: '20s' }).connections.headersTimeout, 20_000, 'as long as the request deadline is allowed');
});

t.test('TRUST_PROXY as Fastify understands it', async (t) => {
  t.equal(parseTrustProxy(undefined), false);
  t.equal(parseTrustProxy('false'), false);
  t.equal(parseTrustProxy('true'), true);
  t.equal(parseTrustProxy('2'), 2);
  t.same(parseTrustProxy('127.0.0.1, 10.0.0.0/8'), ['127.0.0.1', '10.0.0.0/8']);
});

t.test('bad values stop start-up with a clear message', async (t) => {
  for (const [env, message] of [
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute URL/],
    [{ PUBLIC_URL: 'ftp://x.example' }, /http/],
    [{ PUBLIC_URL: 'https://user:pw@x.example' }, /credentials/],
    [{ PUBLIC_URL: 'https://x.example/?a=1' }, /query/],
    [{ MAILCONF_DIRECTORY: 'mysql://x' }, /sqlite:PATH/],
    [{ RATE_LIMIT_MAX: '0' }, /RATE_LIMIT_MAX/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ TRUST_PROXY: 'not-an-address' }, /TRUST_PROXY must be/],
    [{ RATE_LIMIT_WINDOW: 'soon' }, /RATE_LIMIT_WINDOW must be/],
    [{ RATE_LIMIT_WINDOW: '0' }, /RATE_LIMIT_WINDOW must be/],
    [{ TRUST_PROXY: '10.0.0.0/99' }, /TRUST_PROXY must be/],
    [{ HEADERS_TIMEOUT: 'slowly' }, /HEADERS_TIMEOUT must be milliseconds or a count and a unit/],
    [{ REQUEST_TIMEOUT: '0' }, /REQUEST_TIMEOUT must be/],
    [{ KEEP_ALIVE_TIMEOUT: '0' }, /KEEP_ALIVE_TIMEOUT must be/],
    [{ KEEP_ALIVE_TIMEOUT: '11 minutes' }, /KEEP_ALIVE_TIMEOUT must be .* to 10 minutes/],
    [{ SHUTDOWN_TIMEOUT: '1 hour' }, /SHUTDOWN_TIMEOUT must be/],
    [{ HEADERS_TIMEOUT: '30 seconds' }, /HEADERS_TIMEOUT \(30000 ms\) must not be longer than REQUEST_TIMEOUT \(20000 ms\)/],
    [{ MAX_CONNECTIONS_PER_CLIENT: '0' }, /MAX_CONNECTIONS_PER_CLIENT must be a whole number from 1/],
    [{ MAX_CONNECTIONS_PER_CLIENT: 'many' }, /MAX_CONNECTIONS_PER_CLIENT/],
  ] as const) {
    t.throws(() => configFromEnv(env), { constructor: ConfigError, message }, JSON.stringify(env));
  }
});
