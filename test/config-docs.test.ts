// The configuration is declared once (src/config/declaration.ts): the README's table is
// made from it, and config.ts reads no variable it does not declare.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { configFromEnv, ConfigError } from '../src/config/config.js';
import { configTable, SETTINGS, settingNamed, shownValue } from '../src/config/declaration.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SOURCES = ['../src/config/config.ts', '../src/config/secret.ts'].map((f) => readFileSync(new URL(f, import.meta.url), 'utf8'));

t.test("the README's configuration table is the declaration's", async (t) => {
  t.ok(README.includes(`${configTable()}\n`), 'README.md holds the table exactly (regenerate it with: npx mailconf config --markdown)');
  for (const s of SETTINGS) t.ok(README.includes(`\`${s.name}\``), `README names ${s.name}`);
});

t.test('every variable the config module reads is declared, and every declared one is read', async (t) => {
  const read = new Set(SOURCES.flatMap((text) => [...text.matchAll(/read\('([A-Z_]+)'\)|integer\(read, '([A-Z_]+)'|duration\('([A-Z_]+)'/g)].map((m) => (m[1] ?? m[2] ?? m[3])!)));
  for (const name of read) t.doesNotThrow(() => settingNamed(name), `${name} is declared`);
  for (const s of SETTINGS) t.ok(read.has(s.name), `${s.name} is read`);
  t.throws(() => settingNamed('NOT_DECLARED'), /not declared/);
});

t.test('every bad value is reported at once, one line each', async (t) => {
  const err = t.throws(() => configFromEnv({ PORT: 'eighty', LOG_LEVEL: 'loud', RATE_LIMIT_MAX: '0' })) as ConfigError;
  t.type(err, ConfigError);
  t.match(err.message, /^3 problems in the configuration:\n {2}- PORT must be a whole number.*\n {2}- LOG_LEVEL must be one of.*\n {2}- RATE_LIMIT_MAX/);
  t.throws(() => configFromEnv({ PORT: 'eighty' }), { message: /^PORT must be a whole number/ }, 'a single problem is its own message');
});

t.test('secrets are masked when shown', async (t) => {
  t.equal(shownValue(settingNamed('MAILCONF_SECRET'), 'abcdefabcdefabcdef'), '***');
  t.equal(shownValue(settingNamed('MAILCONF_DIRECTORY'), 'postgres://app:hunter2@db.internal:5432/mail'), 'postgres://app:***@db.internal:5432/mail');
  t.equal(shownValue(settingNamed('MAILCONF_DIRECTORY'), 'sqlite:./data/directory.db'), 'sqlite:./data/directory.db');
  t.equal(shownValue(settingNamed('PORT'), '8080'), '8080');
  t.equal(shownValue(settingNamed('REDIS_URL'), 'redis://:s3cret@cache:6379'), 'redis://:***@cache:6379');
  t.equal(shownValue(settingNamed('REDIS_URL'), 'redis://cache:6379'), 'redis://cache:6379', 'no password, nothing masked');
});
