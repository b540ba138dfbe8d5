// The admin API's configuration (ADMIN_TOKEN, ADMIN_TOKENS_FILE, its limits), checked at
// start-up with messages that name the line, never the token; and the token compare:
// fixed-length digests through crypto.timingSafeEqual, every configured token each time.
import { timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { configFromEnv, ConfigError, describeConfig } from '../src/config/config.js';
import { parseAdminTokens } from '../src/config/admin-tokens.js';
import { AdminTokens, readCredentials } from '../src/http/admin/bearer.js';

const TOKEN = 'k7Qw-2pLx_9vRt~Zs8Nm+Jd4/Hf6Gb3A=';
const OTHER = '0123456789abcdef0123456789abcdef0123';

const startUpError = (env: NodeJS.ProcessEnv) => {
  try {
    configFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return undefined;
};

t.test('without a token the admin API is off; with one it is on, with its limits', async (t) => {
  t.equal(configFromEnv({}).admin, undefined);
  t.equal(configFromEnv({ ADMIN_TOKEN: '' }).admin, undefined, 'an empty value is unset');
  t.same(configFromEnv({ ADMIN_TOKEN: TOKEN }).admin, {
    tokens: [{ name: 'ADMIN_TOKEN', token: TOKEN }],
    rateLimitMax: 300,
    importMaxBytes: 256 * 1024 * 1024,
  });
  const admin = configFromEnv({ ADMIN_TOKEN: TOKEN, ADMIN_RATE_LIMIT_MAX: '5', ADMIN_IMPORT_MAX_SIZE: '2 kb' }).admin!;
  t.equal(admin.rateLimitMax, 5);
  t.equal(admin.importMaxBytes, 2048);
  t.equal(configFromEnv({ ADMIN_TOKEN: TOKEN, ADMIN_IMPORT_MAX_SIZE: '1000' }).admin!.importMaxBytes, 1000, 'bytes without a unit');
});

t.test('a token too short, or of characters a Bearer header cannot carry, stops start-up without showing it', async (t) => {
  const short = 'abc123'.repeat(5); // 30 characters
  const message = startUpError({ ADMIN_TOKEN: short });
  t.equal(message, 'ADMIN_TOKEN: the token must be at least 32 characters (for example: openssl rand -hex 32)');
  t.notMatch(message, short);
  t.match(startUpError({ ADMIN_TOKEN: `${'a'.repeat(32)} b` }), /^ADMIN_TOKEN: the token may hold only letters, digits and/);
  t.match(startUpError({ ADMIN_TOKEN: `${'a'.repeat(32)}"` }), /RFC 6750 section 2\.1/);
  t.match(startUpError({ ADMIN_TOKEN: TOKEN, ADMIN_RATE_LIMIT_MAX: '0' }), /^ADMIN_RATE_LIMIT_MAX must be a whole number from 1 to 1000000/);
  t.equal(
    startUpError({ ADMIN_TOKEN: TOKEN, ADMIN_IMPORT_MAX_SIZE: 'lots' }),
    'ADMIN_IMPORT_MAX_SIZE must be bytes or a count and a unit such as "64 MB", at most 16 GB (got "lots")',
  );
});

t.test('a tokens file: named tokens, comments, and every bad line named by its number', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'tokens');
  writeFileSync(file, `# who may change accounts\n\ncontrol-centre ${TOKEN}\n  # the nightly sync\nnightly.sync ${OTHER}\n`);
  t.same(configFromEnv({ ADMIN_TOKENS_FILE: file }).admin!.tokens, [
    { name: 'control-centre', token: TOKEN },
    { name: 'nightly.sync', token: OTHER },
  ]);
  t.same(
    configFromEnv({ ADMIN_TOKENS_FILE: file, ADMIN_TOKEN: 'z'.repeat(40) }).admin!.tokens.map((x) => x.name),
    ['ADMIN_TOKEN', 'control-centre', 'nightly.sync'],
    'ADMIN_TOKEN and the file together',
  );

  const bad = [`one ${TOKEN}`, `one ${OTHER}`, `two ${TOKEN}`, 'three short-token', `four ${TOKEN} extra`, `-dash ${'q'.repeat(40)}`].join('\n');
  const message = (() => {
    try {
      parseAdminTokens(bad, 'tokens.txt');
    } catch (err) {
      return (err as Error).message;
    }
  })();
  t.equal(
    message,
    [
      'ADMIN_TOKENS_FILE tokens.txt line 2: the name one is already used on line 1',
      'ADMIN_TOKENS_FILE tokens.txt line 3: the same token as on line 1',
      'ADMIN_TOKENS_FILE tokens.txt line 4: the token must be at least 32 characters (for example: openssl rand -hex 32)',
      'ADMIN_TOKENS_FILE tokens.txt line 5: expected "name token" (two words)',
      'ADMIN_TOKENS_FILE tokens.txt line 6: the name must be 1-64 letters, digits and . _ @ -, starting with a letter or digit',
    ].join('; '),
  );
  t.notMatch(message, TOKEN, 'no token in the message');
  t.notMatch(message, 'short-token');

  t.throws(() => parseAdminTokens('# nothing yet\n', 'empty'), { message: 'ADMIN_TOKENS_FILE empty holds no token: add lines of "name token", or unset it' });
  t.match(startUpError({ ADMIN_TOKENS_FILE: join(dir, 'missing') }), /^ADMIN_TOKENS_FILE .*missing cannot be read \(ENOENT\)$/);
  writeFileSync(file, `ADMIN_TOKEN ${OTHER}\n`);
  t.equal(startUpError({ ADMIN_TOKENS_FILE: file, ADMIN_TOKEN: TOKEN }), "ADMIN_TOKENS_FILE must not use the name ADMIN_TOKEN: it names ADMIN_TOKEN's holder");
  writeFileSync(file, `sync ${TOKEN}\n`);
  t.equal(startUpError({ ADMIN_TOKENS_FILE: file, ADMIN_TOKEN: TOKEN }), 'ADMIN_TOKENS_FILE holds the same token as ADMIN_TOKEN');
});

t.test('Authorization is read as RFC 6750 says: the Bearer scheme in any case, then a b64token', async (t) => {
  t.same(readCredentials(undefined), { kind: 'none' });
  t.same(readCredentials(`Basic ${Buffer.from('a:b').toString('base64')}`), { kind: 'none' }, 'another scheme is no credentials here');
  t.same(readCredentials(`Bearer ${TOKEN}`), { kind: 'bearer', token: TOKEN });
  t.same(readCredentials(`bearer   ${TOKEN}`), { kind: 'bearer', token: TOKEN });
  t.same(readCredentials('Bearer'), { kind: 'malformed' });
  t.same(readCredentials('Bearer two words'), { kind: 'malformed' });
  t.same(readCredentials('Bearer "quoted"'), { kind: 'malformed' });
});

t.test('the compare: every configured token, through timingSafeEqual over fixed-length digests', async (t) => {
  const calls: Array<[number, number]> = [];
  const spy = (a: Buffer, b: Buffer) => {
    calls.push([a.length, b.length]);
    return timingSafeEqual(a, b);
  };
  const tokens = new AdminTokens(
    [
      { name: 'first', token: TOKEN },
      { name: 'second', token: OTHER },
      { name: 'third', token: 'x'.repeat(64) },
    ],
    spy,
  );
  for (const [given, holder] of [
    [TOKEN, 'first'],
    [OTHER, 'second'],
    [`${TOKEN.slice(0, -1)}B`, undefined], // differs in the last character only
    [TOKEN.slice(0, 10), undefined], // another length
    ['y'.repeat(500), undefined],
  ] as const) {
    calls.length = 0;
    t.equal(tokens.holderOf(given), holder, `${given.slice(0, 12)}...: ${holder ?? 'nobody'}`);
    t.same(calls, [[32, 32], [32, 32], [32, 32]], 'three compares of two 32-byte digests, whether or not one matched first');
  }
});

t.test('the real module compares with node:crypto timingSafeEqual', async (t) => {
  let compares = 0;
  const crypto = await import('node:crypto');
  const { AdminTokens: Mocked } = await t.mockImport<typeof import('../src/http/admin/bearer.js')>('../src/http/admin/bearer.js', {
    'node:crypto': {
      ...crypto,
      timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
        compares++;
        return crypto.timingSafeEqual(a, b);
      },
    },
  });
  const tokens = new Mocked([{ name: 'only', token: TOKEN }]);
  t.equal(tokens.holderOf(TOKEN), 'only');
  t.equal(tokens.holderOf(OTHER), undefined);
  t.equal(compares, 2);
});

t.test('`mailconf config` shows ADMIN_TOKEN masked, and a short one as a problem without its value', async (t) => {
  const shown = describeConfig({ ADMIN_TOKEN: TOKEN });
  t.same(shown.settings.find((s) => s.name === 'ADMIN_TOKEN'), { name: 'ADMIN_TOKEN', value: '***', source: 'environment' });
  t.same(shown.problems, []);
  const short = describeConfig({ ADMIN_TOKEN: 'tooshort-secret' });
  t.same(short.problems, ['ADMIN_TOKEN: the token must be at least 32 characters (for example: openssl rand -hex 32)']);
  t.notMatch(JSON.stringify(short), 'tooshort-secret');
});
