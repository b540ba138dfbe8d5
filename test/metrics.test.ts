// /metrics: Prometheus text for the operator's scraper only (loopback and METRICS_ALLOW
// peers); every answer counted by dialect and outcome, settings by era, latencies, the
// directory's health; everyone else gets the 404 of any unknown path.
import t from 'tap';
import { poxRequestBody } from '../src/dialects/autodiscover-pox.js';
import { DownDirectory, testApp } from './support/app.js';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

t.test('every answer is counted by dialect and outcome; settings by era', async (t) => {
  const { app } = await testApp(t, { env: { PUBLIC_URL: 'http://mailconf.pair-test.example' } });
  const ask = (url: string, extra: object = {}) => app.inject({ url, remoteAddress: '192.0.2.1', ...extra });
  await ask('/mail/config-v1.1.xml?emailaddress=sales%40oldtimer-shop.example'); // old era
  await ask('/mail/config-v1.1.xml?emailaddress=jane%40newbie.example'); // new era
  await ask('/mail/config-v1.1.xml?emailaddress=x%40unknown.example'); // unknown domain
  await ask('/mail/config-v1.1.xml?emailaddress=x%40broken-old.example'); // data error
  await ask('/mobileconfig'); // client error: no address
  await ask('/autodiscover/autodiscover.xml', { method: 'POST', payload: poxRequestBody('jane@newbie.example') });
  await ask('/nothing-here');
  const res = await app.inject({ url: '/metrics' }); // loopback
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const m = res.body;
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autoconfig",outcome="settings"'), 2);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autoconfig",outcome="unknown-domain"'), 1);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autoconfig",outcome="data-error"'), 1);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="mobileconfig",outcome="client-error"'), 1);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autodiscover-pox",outcome="settings"'), 1);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="none",outcome="client-error"'), 1, 'unknown paths count too');
  t.equal(sample(m, 'mailconf_answers_by_era_total', 'era="old"'), 1);
  t.equal(sample(m, 'mailconf_answers_by_era_total', 'era="new"'), 2);
  t.equal(sample(m, 'mailconf_request_duration_seconds_count', 'dialect="autoconfig"'), 4);
  t.equal(sample(m, 'mailconf_directory_lookup_duration_seconds_count'), 5);
  t.equal(sample(m, 'mailconf_directory_up'), 1);
  t.match(m, /^mailconf_build_info\{version="\d+\.\d+\.\d+",node="v\d+/m);
  t.match(m, /^mailconf_process_resident_memory_bytes \d+/m, 'process metrics');
  t.notMatch(m, /sales|jane|@/, 'no address in the metrics');
});

t.test('rate-limited answers have their own outcome; the directory down is visible', async (t) => {
  const { app } = await testApp(t, { directory: new DownDirectory(), env: { RATE_LIMIT_MAX: '2' } });
  for (let i = 0; i < 3; i++) await app.inject({ url: '/mail/config-v1.1.xml?emailaddress=a%40newbie.example', remoteAddress: '192.0.2.7' });
  const m = (await app.inject({ url: '/metrics' })).body;
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autoconfig",outcome="unavailable"'), 2);
  t.equal(sample(m, 'mailconf_requests_total', 'dialect="autoconfig",outcome="rate-limited"'), 1);
  t.equal(sample(m, 'mailconf_directory_up'), 0);
});

t.test('only loopback and METRICS_ALLOW peers may read /metrics; never by a forwarded header', async (t) => {
  const { app } = await testApp(t, { env: { METRICS_ALLOW: 'fdaa::/16, 10.1.2.3', TRUST_PROXY: 'true', RATE_LIMIT_MAX: '2' } });
  for (const peer of ['127.0.0.1', '::1', 'fdaa:0:1::5', '10.1.2.3']) {
    for (let i = 0; i < 4; i++) {
      t.equal((await app.inject({ url: '/metrics', remoteAddress: peer })).statusCode, 200, `${peer} may read (and is not rate-limited)`);
    }
  }
  for (const peer of ['192.0.2.1', '10.1.2.4', '2001:db8::1']) {
    const res = await app.inject({ url: '/metrics', remoteAddress: peer, headers: { 'x-forwarded-for': `127.0.0.${peer.length}` } });
    t.equal(res.statusCode, 404, `${peer} gets a 404, forwarded-for loopback or not`);
    t.equal(res.body, 'Not found\n');
  }
});

t.test('METRICS_ALLOW must be addresses or CIDRs', async (t) => {
  const { configFromEnv } = await import('../src/config/config.js');
  t.throws(() => configFromEnv({ METRICS_ALLOW: 'not-an-address' }), /METRICS_ALLOW must be/);
  t.same(configFromEnv({}).metricsAllow, []);
});
