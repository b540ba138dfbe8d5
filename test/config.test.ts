import t from 'tap';
import { ConfigError, configFromEnv, parseTrustProxy, parseWindow } from '../src/config/config.js';

t.test('defaults', async (t) => {
  const c = configFromEnv({});
  t.match(c, { host: '0.0.0.0', port: 8080, directoryUrl: 'sqlite:./data/directory.db', trustProxy: false, logLevel: 'info', logPretty: false });
  t.equal(c.publicUrl.href, 'http://localhost:8080/');
  t.same(c.serviceHosts, ['localhost']);
  t.same(c.rateLimit, { max: 120, timeWindow: 60_000 });
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
  ] as const) {
    t.throws(() => configFromEnv(env), { constructor: ConfigError, message }, JSON.stringify(env));
  }
});
