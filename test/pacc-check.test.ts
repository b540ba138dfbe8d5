// `mailconf pacc-check DOMAIN`: does a published _ua-auto-config TXT record vouch for the
// PACC document served now? Records come from --txt or stdin (`dig +short TXT`); no network.
import t, { type Test } from 'tap';
import { txtRecordText } from '../src/cli/commands/pacc-check.js';
import { paccDigest } from '../src/dialects/pacc.js';
import { PACC_PATH } from '../src/links.js';
import { testApp } from './support/app.js';
import { fixtureDirectory, runCli } from './support/cli.js';

const mailconf = (argv: string[], stdin?: string) => runCli(argv, {}, stdin);

async function workspace(t: Test) {
  const url = await fixtureDirectory(t);
  const { app } = await testApp(t);
  const served = async (domain: string) => paccDigest((await app.inject({ url: PACC_PATH, headers: { host: `ua-auto-config.${domain}` } })).rawPayload);
  return { url, served, run: (argv: string[], stdin?: string) => mailconf([...argv, '--directory', url], stdin) };
}

const OTHER = paccDigest('{"another":"document"}');

t.test('a record that matches the served document: exit 0', async (t) => {
  const w = await workspace(t);
  const d = await w.served('newbie.example');
  const ok = await w.run(['pacc-check', 'newbie.example', '--txt', `v=UAAC1; a=sha256; d=${d}`]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, `the document served now has SHA-256 ${d}`);
  t.match(ok.stdout, ': matches');
  t.equal(ok.stderr, '');
  const reordered = await w.run(['pacc-check', 'Newbie.Example', '--txt', `d=${d};a=sha256;v=UAAC1;`]);
  t.equal(reordered.code, 0, 'tags in another order, no spaces, a final ;');
});

t.test('no record matches: exit 1, and the record to publish', async (t) => {
  const w = await workspace(t);
  const d = await w.served('newbie.example');
  const bad = await w.run(['pacc-check', 'newbie.example', '--txt', `v=UAAC1; a=sha256; d=${OTHER}`, '--txt', 'v=spf1 -all']);
  t.equal(bad.code, 1);
  t.match(bad.stdout, 'another document');
  t.match(bad.stdout, 'not a PACC integrity record');
  t.match(bad.stderr, `none of 2 records matches the document served now: publish _ua-auto-config.newbie.example. TXT "v=UAAC1; a=sha256; d=${d}"`);
  const lastday = await w.served('lastday.example');
  t.equal((await w.run(['pacc-check', 'newbie.example', '--txt', `v=UAAC1; a=sha256; d=${lastday}`])).code, 1, "another domain's digest");
});

t.test('several records during a change: one match is enough, and the others are to drop later', async (t) => {
  const w = await workspace(t);
  const d = await w.served('newbie.example');
  const both = await w.run(['pacc-check', 'newbie.example', '--txt', `v=UAAC1; a=sha256; d=${OTHER}`, '--txt', `a=sha256; v=UAAC1; d=${d}`]);
  t.equal(both.code, 0, both.stderr);
  t.match(both.stdout, 'a change is under way: drop the other records one TTL');
});

t.test('records from stdin, as dig +short prints them (split strings too)', async (t) => {
  const w = await workspace(t);
  const d = await w.served('newbie.example');
  const dig = `"v=UAAC1; a=sha256; d=${OTHER}"\n"v=UAAC1; " "a=sha256; d=${d.slice(0, 10)}" "${d.slice(10)}"\n`;
  const piped = await w.run(['pacc-check', 'newbie.example'], dig);
  t.equal(piped.code, 0, piped.stderr);
  t.equal((await w.run(['pacc-check', 'newbie.example'], '')).code, 1, 'no records at all');
  const noStdin = await w.run(['pacc-check', 'newbie.example']);
  t.equal(noStdin.code, 2, 'neither --txt nor a pipe: a usage error');
  t.match(noStdin.stderr, 'dig +short TXT _ua-auto-config.newbie.example');
  t.equal(txtRecordText('"a\\"b" "c\\\\d\\059"'), 'a"bc\\d;');
  t.equal(txtRecordText('  v=UAAC1; d=x  '), 'v=UAAC1; d=x');
});

t.test('no document served: exit 1 and why', async (t) => {
  const w = await workspace(t);
  const stored = await w.run(['pacc-check', 'oldtimer-shop.example', '--txt', `v=UAAC1; a=sha256; d=${OTHER}`]);
  t.equal(stored.code, 1);
  t.match(stored.stderr, /no PACC document is served for oldtimer-shop\.example: .*own stored login.*remove its _ua-auto-config TXT records/);
  t.match((await w.run(['pacc-check', 'unknown.example', '--txt', 'x'])).stderr, /no account serves/);
  t.equal((await w.run(['pacc-check', 'jane@newbie.example', '--txt', 'x'])).code, 2);
});

t.test('the help says the roll-out order', async (t) => {
  const help = await mailconf(['pacc-check', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: mailconf pacc-check DOMAIN \[--txt RECORD\]\.\.\./);
  t.match(help.stdout.replace(/\s+/g, ' '), 'publish the new TXT record beside the old one, wait one TTL (3600 s), switch the document, then drop the old record');
  t.match(help.stdout, /--txt RECORD/);
});
