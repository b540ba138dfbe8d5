// The deployment files checked against the app they deploy: fly.toml (port, health check
// paths, metrics, release command, shutdown timing, proxy settings), the Dockerfile (what
// the runtime stage holds and how it starts), .dockerignore (keeps what the build needs),
// and docs/fly-sqlite.md's fly.toml. No Docker engine and no flyctl are needed: the files
// are read by the small readers below (each tested first), and the app is the real one
// built by test/support/app.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DEMO_FILE } from '../src/accounts/open.js';
import { COMMANDS } from '../src/cli/commands/index.js';
import { main as cliMain } from '../src/cli/mailconf.js';
import { configFromEnv } from '../src/config/config.js';
import { SETTINGS } from '../src/config/declaration.js';
import { TEMPLATES_DIR } from '../src/templates.js';
import { testApp } from './support/app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// ---------------------------------------------------------------------------------------
// A TOML reader for the subset fly.toml uses: comments, [tables], [[arrays of tables]],
// `key = value` with bare or quoted keys, basic and literal strings, integers, floats,
// booleans, and one-line arrays of those. Anything else is an error naming its line.
// ---------------------------------------------------------------------------------------

type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
interface TomlTable {
  [key: string]: TomlValue;
}

class TomlError extends Error {}

export function parseToml(text: string): TomlTable {
  const root: TomlTable = {};
  let current = root;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const where = `line ${index + 1}`;
    const cursor = { text: raw, pos: 0 };
    skipSpace(cursor);
    if (atEnd(cursor)) return;
    if (cursor.text.startsWith('[[', cursor.pos)) {
      cursor.pos += 2;
      const path = readKeyPath(cursor, where, ']]');
      endOfLine(cursor, where);
      const parent = tableAt(root, path.slice(0, -1), where);
      const last = path[path.length - 1]!;
      const existing = parent[last];
      if (existing === undefined) parent[last] = [];
      else if (!Array.isArray(existing) || existing.some((e) => !isTable(e))) throw new TomlError(`${where}: ${path.join('.')} is not an array of tables`);
      const table: TomlTable = {};
      (parent[last] as TomlValue[]).push(table);
      current = table;
      return;
    }
    if (cursor.text[cursor.pos] === '[') {
      cursor.pos += 1;
      const path = readKeyPath(cursor, where, ']');
      endOfLine(cursor, where);
      const parent = tableAt(root, path.slice(0, -1), where);
      const last = path[path.length - 1]!;
      if (parent[last] !== undefined) throw new TomlError(`${where}: table [${path.join('.')}] defined twice`);
      const table: TomlTable = {};
      parent[last] = table;
      current = table;
      return;
    }
    const key = readKey(cursor, where);
    skipSpace(cursor);
    if (cursor.text[cursor.pos] !== '=') throw new TomlError(`${where}: expected "=" after ${key}`);
    cursor.pos += 1;
    skipSpace(cursor);
    const value = readValue(cursor, where);
    endOfLine(cursor, where);
    if (Object.hasOwn(current, key)) throw new TomlError(`${where}: ${key} set twice`);
    current[key] = value;
  });
  return root;
}

interface Cursor {
  text: string;
  pos: number;
}

const isTable = (v: TomlValue | undefined): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

function skipSpace(c: Cursor): void {
  while (c.text[c.pos] === ' ' || c.text[c.pos] === '\t') c.pos++;
}

function atEnd(c: Cursor): boolean {
  return c.pos >= c.text.length || c.text[c.pos] === '#';
}

function endOfLine(c: Cursor, where: string): void {
  skipSpace(c);
  if (!atEnd(c)) throw new TomlError(`${where}: unexpected "${c.text.slice(c.pos)}"`);
}

/** The table at `path` (made when missing); through an array of tables, its last table. */
function tableAt(root: TomlTable, path: string[], where: string): TomlTable {
  let table = root;
  for (const key of path) {
    let next = table[key];
    if (next === undefined) next = table[key] = {};
    if (Array.isArray(next)) next = next[next.length - 1];
    if (!isTable(next)) throw new TomlError(`${where}: ${key} is not a table`);
    table = next;
  }
  return table;
}

function readKey(c: Cursor, where: string): string {
  const quote = c.text[c.pos];
  if (quote === '"' || quote === "'") return readString(c, where);
  const match = /^[A-Za-z0-9_-]+/.exec(c.text.slice(c.pos));
  if (!match) throw new TomlError(`${where}: expected a key`);
  c.pos += match[0].length;
  if (c.text[c.pos] === '.') throw new TomlError(`${where}: dotted keys are not in the subset this reader takes`);
  return match[0];
}

function readKeyPath(c: Cursor, where: string, close: string): string[] {
  const path: string[] = [];
  for (;;) {
    skipSpace(c);
    const quote = c.text[c.pos];
    if (quote === '"' || quote === "'") path.push(readString(c, where));
    else {
      const match = /^[A-Za-z0-9_-]+/.exec(c.text.slice(c.pos));
      if (!match) throw new TomlError(`${where}: expected a table name`);
      path.push(match[0]);
      c.pos += match[0].length;
    }
    skipSpace(c);
    if (c.text[c.pos] === '.') {
      c.pos++;
      continue;
    }
    if (!c.text.startsWith(close, c.pos)) throw new TomlError(`${where}: expected "${close}"`);
    c.pos += close.length;
    return path;
  }
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };

function readString(c: Cursor, where: string): string {
  const quote = c.text[c.pos]!;
  c.pos++;
  let out = '';
  while (c.pos < c.text.length) {
    const ch = c.text[c.pos]!;
    if (ch === quote) {
      c.pos++;
      return out;
    }
    if (ch === '\\' && quote === '"') {
      const next = c.text[c.pos + 1] ?? '';
      if (next === 'u' || next === 'U') {
        const digits = next === 'u' ? 4 : 8;
        const hex = c.text.slice(c.pos + 2, c.pos + 2 + digits);
        if (!new RegExp(`^[0-9A-Fa-f]{${digits}}$`).test(hex)) throw new TomlError(`${where}: bad \\${next} escape`);
        out += String.fromCodePoint(parseInt(hex, 16));
        c.pos += 2 + digits;
        continue;
      }
      if (!(next in ESCAPES)) throw new TomlError(`${where}: unknown escape \\${next}`);
      out += ESCAPES[next];
      c.pos += 2;
      continue;
    }
    out += ch;
    c.pos++;
  }
  throw new TomlError(`${where}: unterminated string`);
}

function readValue(c: Cursor, where: string): TomlValue {
  const ch = c.text[c.pos];
  if (ch === '"' || ch === "'") {
    if (c.text.startsWith(ch.repeat(3), c.pos)) throw new TomlError(`${where}: multi-line strings are not in the subset this reader takes`);
    return readString(c, where);
  }
  if (ch === '[') {
    c.pos++;
    const items: TomlValue[] = [];
    for (;;) {
      skipSpace(c);
      if (c.text[c.pos] === ']') {
        c.pos++;
        return items;
      }
      if (c.pos >= c.text.length || c.text[c.pos] === '#') throw new TomlError(`${where}: arrays must close on their line in the subset this reader takes`);
      items.push(readValue(c, where));
      skipSpace(c);
      if (c.text[c.pos] === ',') c.pos++;
      else if (c.text[c.pos] !== ']') throw new TomlError(`${where}: expected "," or "]" in an array`);
    }
  }
  if (ch === '{') throw new TomlError(`${where}: inline tables are not in the subset this reader takes`);
  const word = /^[^\s,\]#]+/.exec(c.text.slice(c.pos))?.[0] ?? '';
  c.pos += word.length;
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (/^[+-]?(0|[1-9](_?\d)*)$/.test(word)) return Number(word.replaceAll('_', ''));
  if (/^[+-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+-]?\d(_?\d)*)?$/.test(word)) return Number(word.replaceAll('_', ''));
  throw new TomlError(`${where}: cannot read the value "${word || c.text.slice(c.pos)}"`);
}

// ---------------------------------------------------------------------------------------
// A Dockerfile reader: instructions (continuation lines joined, comments dropped), grouped
// into stages, and what the final stage inherits along its chain of FROMs.
// ---------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split(/\r?\n/);
  let pending = '';
  let start = 0;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && pending === '')) return;
    if (pending === '') start = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trimEnd()} `;
      return;
    }
    const whole = (pending + trimmed).trim();
    pending = '';
    if (whole === '') return;
    const match = /^(\S+)\s*(.*)$/.exec(whole)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!, line: start };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`Dockerfile line ${start}: unreadable FROM`);
      stages.push({ image: from[1]!, name: from[2]?.toLowerCase(), instructions: [] });
      return;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${start}: ${instruction.keyword} before any FROM`);
    stage.instructions.push(instruction);
  });
  if (pending !== '') throw new Error('Dockerfile ends in a continuation line');
  return stages;
}

/** Words as Docker splits ENV, COPY and EXPOSE arguments: at unquoted whitespace, quotes removed (`B="two words"` is one word). */
function words(args: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const ch = args[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < args.length) word = `${word ?? ''}${args[++i]!}`;
      else word = `${word ?? ''}${ch}`;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) out.push(word);
      word = undefined;
    } else if (ch === '\\' && i + 1 < args.length) word = `${word ?? ''}${args[++i]!}`;
    else word = (word ?? '') + ch;
  }
  if (quote) throw new Error(`unterminated quote in: ${args}`);
  if (word !== undefined) out.push(word);
  return out;
}

/** CMD / ENTRYPOINT as an argv: the exec (JSON) form as is, the shell form through sh -c. */
function commandOf(args: string): string[] {
  return args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

function envOf(args: string): Record<string, string> {
  const parts = words(args);
  if (parts.length >= 2 && !parts[0]!.includes('=')) return { [parts[0]!]: args.trim().slice(parts[0]!.length).trim() };
  return Object.fromEntries(parts.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

interface CopiedPath {
  /** The absolute path in the image. */
  target: string;
  /** The stage it came from, or undefined for the build context. */
  from: string | undefined;
  source: string;
}

/** What a stage ends up with, its parents' settings included. */
interface Effective {
  workdir: string;
  user: string | undefined;
  env: Record<string, string>;
  cmd: string[] | undefined;
  entrypoint: string[] | undefined;
  expose: string[];
  copied: CopiedPath[];
  runs: string[];
  /** The stages this one builds on, nearest first, itself included. */
  chain: Stage[];
}

function stageNamed(stages: Stage[], name: string): Stage | undefined {
  return stages.find((s) => s.name === name.toLowerCase());
}

function effective(stages: Stage[], stage: Stage): Effective {
  const parent = stageNamed(stages.slice(0, stages.indexOf(stage)), stage.image);
  const base: Effective = parent
    ? effective(stages, parent)
    : { workdir: '/', user: undefined, env: {}, cmd: undefined, entrypoint: undefined, expose: [], copied: [], runs: [], chain: [] };
  const out: Effective = { ...base, env: { ...base.env }, expose: [...base.expose], copied: [...base.copied], runs: [...base.runs], chain: [stage, ...base.chain] };
  for (const { keyword, args } of stage.instructions) {
    switch (keyword) {
      case 'WORKDIR':
        out.workdir = posix.resolve(out.workdir, args.trim());
        break;
      case 'USER':
        out.user = args.trim();
        break;
      case 'ENV':
        Object.assign(out.env, envOf(args));
        break;
      case 'CMD':
        out.cmd = commandOf(args);
        break;
      case 'ENTRYPOINT':
        out.entrypoint = commandOf(args);
        out.cmd = undefined; // Docker: a new ENTRYPOINT resets the CMD inherited from the base
        break;
      case 'EXPOSE':
        out.expose.push(...words(args));
        break;
      case 'RUN':
        out.runs.push(args);
        break;
      case 'COPY':
      case 'ADD': {
        const parts = words(args);
        const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
        const paths = parts.filter((p) => !p.startsWith('--'));
        const dest = paths.pop()!;
        const destAbs = posix.resolve(out.workdir, dest);
        const intoDir = dest.endsWith('/') || paths.length > 1;
        for (const source of paths) {
          out.copied.push({ target: intoDir ? posix.join(destAbs, posix.basename(source)) : destAbs, from, source });
        }
        break;
      }
    }
  }
  return out;
}

/** The node image's own entrypoint, which the fleet stage keeps: it execs its arguments. */
const NODE_IMAGE_ENTRYPOINT = ['docker-entrypoint.sh'];

// ---------------------------------------------------------------------------------------
// .dockerignore as Docker reads it: patterns relative to the context root (a leading "/"
// changes nothing), `*` and `?` within one path segment, `**` across any number of them,
// `!` re-includes, the last matching line wins, and a pattern that matches a folder
// matches everything below it.
// ---------------------------------------------------------------------------------------

export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: globRegex(pattern) };
    });
  return (path) => {
    const segments = posix.normalize(path).replace(/^\/+/, '').split('/');
    let ignored = false;
    for (const { negate, regex } of rules) {
      // The path itself or any folder above it.
      for (let n = 1; n <= segments.length; n++) {
        if (regex.test(segments.slice(0, n).join('/'))) {
          ignored = !negate;
          break;
        }
      }
    }
    return ignored;
  };
}

function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---------------------------------------------------------------------------------------
// Fly's durations: a number (kill_timeout in seconds, check times in milliseconds) or Go
// duration text ("5s", "1m30s", "500ms").
// ---------------------------------------------------------------------------------------

function flyDurationMs(value: TomlValue | undefined, bareUnit: 'ms' | 's'): number {
  if (typeof value === 'number') return bareUnit === 's' ? value * 1000 : value;
  if (typeof value !== 'string') throw new Error(`not a duration: ${String(value)}`);
  if (/^\d+$/.test(value)) return Number(value) * (bareUnit === 's' ? 1000 : 1);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(ms|s|m|h)/g, (_all, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || value === '') throw new Error(`not a duration: ${value}`);
  return total;
}

// ---------------------------------------------------------------------------------------
// The readers themselves.
// ---------------------------------------------------------------------------------------

t.test('the TOML reader reads the subset fly.toml uses', async (t) => {
  const doc = parseToml(
    [
      '# a comment',
      'app = "name" # trailing comment',
      "literal = 'C:\\path # not a comment'",
      'escaped = "tab\\there \\"quoted\\" \\u00e9"',
      'count = 1_000',
      'ratio = 0.33',
      'negative = -5',
      'yes = true',
      'no = false',
      'list = ["a", 2, true] ',
      'empty = []',
      '"quoted key" = 1',
      '',
      '[section]',
      '  key = "v"',
      '  [section.sub]',
      '    deep = 1',
      '[[section.items]]',
      '  n = 1',
      '  [section.items.headers]',
      '    X = "y"',
      '[[section.items]]',
      '  n = 2',
      '[other]',
    ].join('\n'),
  );
  t.same(doc, {
    app: 'name',
    literal: 'C:\\path # not a comment',
    escaped: 'tab\there "quoted" é',
    count: 1000,
    ratio: 0.33,
    negative: -5,
    yes: true,
    no: false,
    list: ['a', 2, true],
    empty: [],
    'quoted key': 1,
    section: { key: 'v', sub: { deep: 1 }, items: [{ n: 1, headers: { X: 'y' } }, { n: 2 }] },
    other: {},
  });
  const bad: Array<[string, RegExp]> = [
    ['a = "open', /line 1: unterminated string/],
    ['a = 1\na = 2', /line 2: a set twice/],
    ['[t]\n[t]', /line 2: table \[t\] defined twice/],
    ['a = nope', /line 1: cannot read the value "nope"/],
    ['a = 1 2', /line 1: unexpected "2"/],
    ['a.b = 1', /dotted keys/],
    ['a = { b = 1 }', /inline tables/],
    ['a = [1,\n2]', /arrays must close/],
    ['a = "\\q"', /unknown escape/],
    ['[t\nx = 1', /expected "]"/],
    ['x = 1\n[x.y]', /x is not a table/],
    ['= 1', /expected a key/],
    ['[t]\n[[t]]', /t is not an array of tables/],
  ];
  for (const [text, error] of bad) t.throws(() => parseToml(text), error, JSON.stringify(text));
});

t.test('the Dockerfile reader: stages, continuations, inherited settings, COPY targets', async (t) => {
  const stages = parseDockerfile(
    [
      '# comment',
      'FROM node:20 AS base',
      'WORKDIR /app',
      'ENV A=1 \\',
      '    B="two words"',
      'FROM base AS build',
      'RUN echo one \\',
      '  # a comment inside a continuation',
      '  && echo two',
      'COPY package.json package-lock.json ./',
      'COPY src ./src',
      'FROM base',
      'COPY --from=build --chown=node:node /app/dist ./dist',
      'USER node',
      'ENV C three',
      'EXPOSE 8080',
      'CMD ["node", "dist/server.js"]',
    ].join('\n'),
  );
  t.same(stages.map((s) => [s.image, s.name]), [['node:20', 'base'], ['base', 'build'], ['base', undefined]]);
  const build = effective(stages, stages[1]!);
  t.same(build.runs, ['echo one && echo two']);
  t.same(build.copied.map((c) => c.target), ['/app/package.json', '/app/package-lock.json', '/app/src']);
  const last = effective(stages, stages[2]!);
  t.equal(last.workdir, '/app');
  t.equal(last.user, 'node');
  t.same(last.env, { A: '1', B: 'two words', C: 'three' });
  t.same(last.cmd, ['node', 'dist/server.js']);
  t.same(last.copied, [{ target: '/app/dist', from: 'build', source: '/app/dist' }]);
  t.same(commandOf('node x.js'), ['/bin/sh', '-c', 'node x.js']);
  t.throws(() => parseDockerfile('RUN x'), /before any FROM/);
});

t.test('the .dockerignore reader matches as Docker does', async (t) => {
  const ignored = dockerignore(['# comment', 'node_modules', '/dist/', '**/*.db', '*.log', 'docs/*', '!docs/keep.md', 'a?c'].join('\n'));
  const cases: Array<[string, boolean]> = [
    ['node_modules', true],
    ['node_modules/x/index.js', true],
    ['dist/server.js', true],
    ['src/dist/x', false],
    ['data/directory.db', true],
    ['directory.db', true],
    ['data/directory.db-wal', false],
    ['x.log', true],
    ['logs/x.log', false],
    ['docs/a.md', true],
    ['docs/keep.md', false],
    ['abc', true],
    ['abbc', false],
    ['Dockerfile', false],
  ];
  for (const [path, expected] of cases) t.equal(ignored(path), expected, path);
  t.equal(flyDurationMs('1m30s', 'ms'), 90_000);
  t.equal(flyDurationMs('500ms', 's'), 500);
  t.equal(flyDurationMs(15, 's'), 15_000);
  t.equal(flyDurationMs('2000', 'ms'), 2000);
  t.throws(() => flyDurationMs('soon', 's'));
});

// ---------------------------------------------------------------------------------------
// fly.toml against the app.
// ---------------------------------------------------------------------------------------

const fly = parseToml(read('fly.toml'));
const flyEnv = fly.env as Record<string, string>;
const http = fly.http_service as TomlTable;
/** Routing checks (service) and watching checks (top level), each with the path it asks. */
const routingChecks = http.checks as TomlTable[];
const watchingChecks = Object.values((fly.checks ?? {}) as Record<string, TomlTable>);
const checks = [...routingChecks, ...watchingChecks];
const metrics = fly.metrics as TomlTable;
const defaults = configFromEnv({});
const flyConfig = configFromEnv({ ...flyEnv });

/** A Fly machine's address on its organisation's IPv6 private network (6PN), as the docs show one. */
const SIX_PN_PEER = 'fdaa:0:18:a7b:7d:f066:b83b:2';
/** Where Fly's proxy connects from: a private IPv4 address, seen on a dual-stack ("::") socket. */
const FLY_PROXY_PEER = '::ffff:172.19.0.1';

/** The app as fly.toml's [env] configures it (the directory is the test fixture). */
const flyApp = (t: Parameters<typeof testApp>[0]) => testApp(t, { env: { ...flyEnv } });

t.test('fly.toml: the service is where the app listens', async (t) => {
  t.equal(http.internal_port, defaults.port, "internal_port is the app's default PORT");
  t.equal(Number(flyEnv.PORT), http.internal_port, '[env] PORT, if set, agrees');
  t.equal(flyConfig.port, http.internal_port);
  t.equal(flyConfig.host, '::', 'HOST takes IPv4 (Fly proxy) and IPv6 (6PN: the metrics scraper)');
  t.equal((fly.build as TomlTable).dockerfile, 'Dockerfile');
  t.ok(existsSync(join(ROOT, 'Dockerfile')));
});

t.test('fly.toml: [env] holds only declared, non-secret settings that start-up accepts', async (t) => {
  const declared = new Map(SETTINGS.map((s) => [s.name, s]));
  for (const [name, value] of Object.entries(flyEnv)) {
    t.type(value, 'string', `${name}: Fly env values are strings`);
    t.ok(declared.has(name), `${name} is a setting the app reads`);
    t.notOk(declared.get(name)?.secret, `${name} is not a secret (secrets go through fly secrets)`);
    t.notMatch(value, /^(postgres(ql)?|rediss?):\/\//i, `${name} holds no connection URL`);
  }
  t.doesNotThrow(() => configFromEnv({ ...flyEnv }), 'start-up accepts every value');
  t.equal(flyConfig.trustProxy, 1, "TRUST_PROXY: exactly one hop, Fly's proxy");
  t.equal(flyConfig.publicUrl.protocol, 'https:', "PUBLIC_URL is HTTPS: Fly's proxy terminates TLS");
  t.notOk(flyEnv.MAILCONF_DIRECTORY, 'the directory URL (with its password) is a secret, not [env]');
});

t.test('fly.toml: no HTTPS redirect, machines always running, connection-based concurrency', async (t) => {
  t.equal(http.force_https, false, 'plain-HTTP autoconfig and Outlook\'s HTTP redirect method reach the app');
  t.ok(http.auto_stop_machines === 'off' || (typeof http.min_machines_running === 'number' && http.min_machines_running >= 1), 'a machine is always running');
  const concurrency = http.concurrency as TomlTable;
  t.equal(concurrency.type, 'connections');
  t.ok((concurrency.soft_limit as number) > 0 && (concurrency.soft_limit as number) < (concurrency.hard_limit as number), '0 < soft_limit < hard_limit');
});

t.test('fly.toml: shutdown: SIGTERM, and kill_timeout outlasts SHUTDOWN_TIMEOUT', async (t) => {
  t.equal(fly.kill_signal, 'SIGTERM');
  t.match(read('src/server.ts'), /process\.once\('SIGTERM'/, 'the server handles the signal Fly sends');
  const killMs = flyDurationMs(fly.kill_timeout, 's');
  // server.ts closes what is left after SHUTDOWN_TIMEOUT and exits at the latest 2 s later.
  t.ok(killMs > flyConfig.shutdownTimeout + 2000, `kill_timeout ${killMs} ms > SHUTDOWN_TIMEOUT ${flyConfig.shutdownTimeout} ms + 2 s`);
  t.ok(killMs > defaults.shutdownTimeout, 'and above the default SHUTDOWN_TIMEOUT');
  t.ok(killMs <= 300_000, "within Fly's maximum (300 s)");
});

t.test('fly.toml: the health checks are well-formed and cover liveness and readiness', async (t) => {
  t.same(checks.map((c) => c.path).sort(), ['/healthz', '/readyz']);
  // Routing on readiness would take every machine out in a database outage, when they can
  // still serve cached answers and the documented 503: only liveness routes.
  t.same(routingChecks.map((c) => c.path), ['/healthz'], 'only /healthz decides routing');
  for (const c of watchingChecks) {
    t.equal(c.type, 'http', `${String(c.path)}: an HTTP check`);
    t.equal(c.port, http.internal_port, `${String(c.path)}: on the service port`);
  }
  for (const check of checks) {
    t.equal(String(check.method ?? 'GET').toUpperCase(), 'GET', `${check.path}: GET`);
    t.ok(check.protocol === undefined || check.protocol === 'http', `${check.path}: plain HTTP to the machine`);
    const timeout = flyDurationMs(check.timeout, 'ms');
    t.ok(timeout < flyDurationMs(check.interval, 'ms'), `${check.path}: timeout < interval`);
    t.ok(flyDurationMs(check.grace_period, 'ms') >= 1000, `${check.path}: a grace period for start-up`);
  }
});

// One test per check path, so that a route the app does not answer yet shows by name.
for (const check of checks) {
  t.test(`fly.toml: the check on ${String(check.path)} gets 200, asked as Fly's checker asks`, async (t) => {
    const { app } = await flyApp(t);
    // Straight to the machine over the private network: no forwarding headers, the
    // machine's own address as Host.
    for (const remoteAddress of [FLY_PROXY_PEER, SIX_PN_PEER]) {
      const res = await app.inject({ method: 'GET', url: String(check.path), remoteAddress, headers: { host: '172.19.0.2:8080' } });
      t.equal(res.statusCode, 200, `${String(check.path)} from ${remoteAddress}`);
    }
    // Probes every few seconds from one address are never rate-limited.
    for (let i = 0; i < flyConfig.rateLimit.max + 5; i++) await app.inject({ url: String(check.path), remoteAddress: FLY_PROXY_PEER });
    t.equal((await app.inject({ url: String(check.path), remoteAddress: FLY_PROXY_PEER })).statusCode, 200, 'not rate-limited');
  });
}

t.test("fly.toml: [metrics] is where the app answers Fly's scraper", async (t) => {
  t.equal(metrics.port, http.internal_port, 'the service port');
  t.equal(metrics.path, '/metrics');
  const { app } = await flyApp(t);
  const res = await app.inject({ method: 'GET', url: String(metrics.path), remoteAddress: SIX_PN_PEER, headers: { host: `[${SIX_PN_PEER}]:8080` } });
  t.equal(res.statusCode, 200, 'a 6PN peer (METRICS_ALLOW) gets the metrics');
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
  t.match(res.body, /^# HELP /m);
});

t.test('fly.toml: [metrics] is not answered to the Internet through Fly\'s proxy', async (t) => {
  const { app } = await flyApp(t);
  const proxied = { 'x-forwarded-for': '203.0.113.9', 'fly-client-ip': '203.0.113.9', 'x-forwarded-proto': 'https', host: 'mailconf-example.fly.dev' };
  const res = await app.inject({ url: String(metrics.path), remoteAddress: FLY_PROXY_PEER, headers: proxied });
  t.equal(res.statusCode, 404, "a request Fly's proxy forwarded");
  const direct = await app.inject({ url: String(metrics.path), remoteAddress: '203.0.113.9' });
  t.equal(direct.statusCode, 404, 'a public peer');
});

t.test('fly.toml: [metrics] refuses a forwarded request even from a 6PN peer (hardening)', async (t) => {
  // Fly's docs say the proxy reaches a machine on its private IPv4 address; should a
  // forwarded request ever arrive from a 6PN address, its forwarding headers still mark
  // it as someone else's request.
  const { app } = await flyApp(t);
  const proxied = { 'x-forwarded-for': '203.0.113.9', 'fly-client-ip': '203.0.113.9', host: 'mailconf-example.fly.dev' };
  const res = await app.inject({ url: String(metrics.path), remoteAddress: SIX_PN_PEER, headers: proxied });
  t.equal(res.statusCode, 404);
});

t.test('fly.toml: the release command runs the CLI\'s migrate, from a file the image has', async (t) => {
  const command = String((fly.deploy as TomlTable).release_command);
  const argv = command.split(/\s+/);
  t.equal(argv[argv.length - 1], 'migrate', 'it runs migrate');
  t.ok(COMMANDS.some((c) => c.name === 'migrate'), 'migrate is a CLI command');
  const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
  let entry: string;
  if (argv[0] === 'npx') {
    t.equal(argv.length, 3);
    entry = pkg.bin[argv[1]!]!;
    t.ok(entry, `${argv[1]} is this package's bin`);
  } else {
    t.same(argv.slice(0, 1), ['node']);
    t.equal(argv.length, 3);
    entry = argv[1]!;
    t.equal(entry.replace(/^\.\//, ''), pkg.bin.mailconf, 'the mailconf bin');
  }
  t.ok(existsSync(join(ROOT, entry)), `${entry} exists`);
  const image = runtimeStage();
  t.ok(image.copied.some((c) => c.target === posix.join(image.workdir, posix.dirname(entry)) || c.target === posix.join(image.workdir, entry)), `the image has ${entry}`);
  // The command itself, as the release machine runs it (here against an embedded directory).
  const out: string[] = [];
  const code = await cliMain(['migrate'], { stdout: (s) => void out.push(s), stderr: (s) => void out.push(s), env: { MAILCONF_DIRECTORY: 'sqlite::memory:' } });
  t.equal(code, 0, out.join(''));
});

// ---------------------------------------------------------------------------------------
// The Dockerfile and .dockerignore.
// ---------------------------------------------------------------------------------------

const stages = parseDockerfile(read('Dockerfile'));
function runtimeStage(): Effective {
  return effective(stages, stages[stages.length - 1]!);
}
const ignored = dockerignore(read('.dockerignore'));

t.test('Dockerfile: every stage is Node 20 (bookworm-slim), the Node the project requires', async (t) => {
  const external = stages.filter((s, i) => !stageNamed(stages.slice(0, i), s.image));
  t.ok(external.length > 0);
  for (const s of external) t.equal(s.image, 'node:20-bookworm-slim', `FROM ${s.image}`);
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; dependencies: Record<string, string> };
  t.match(pkg.engines.node, /^>=20\./, 'package.json asks for Node 20');
  t.match(pkg.dependencies['better-sqlite3'], /^\^?12\./, 'better-sqlite3 stays on major 12');
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } }> };
  t.match(lock.packages['node_modules/better-sqlite3']?.engines?.node, /(^|\|\|)\s*20\.x/, 'the locked better-sqlite3 supports Node 20');
});

t.test('Dockerfile: the runtime stage starts dist/server.js as a non-root user', async (t) => {
  const image = runtimeStage();
  t.same(image.cmd, ['node', 'dist/server.js']);
  t.ok(image.entrypoint === undefined || JSON.stringify(image.entrypoint) === JSON.stringify(NODE_IMAGE_ENTRYPOINT), "the node image's entrypoint (it execs the command, and Fly's release_command)");
  t.ok(image.user && !/^(root|0)(:|$)/.test(image.user), `USER ${image.user}`);
  t.equal(image.env.NODE_ENV, 'production');
  t.ok(image.expose.includes(String(defaults.port)), `EXPOSE ${defaults.port}`);
  const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string; rootDir: string } };
  t.equal(build.compilerOptions.outDir, 'dist');
  t.ok(existsSync(join(ROOT, build.compilerOptions.rootDir, 'server.ts')), 'dist/server.js is built from src/server.ts');
});

t.test('Dockerfile: the runtime stage holds every folder the server and the CLI read at run time', async (t) => {
  const image = runtimeStage();
  const at = (name: string) => image.copied.find((c) => c.target === posix.join(image.workdir, name));
  for (const name of ['dist', 'node_modules', 'templates', 'data', 'package.json', 'bin']) t.ok(at(name), `${image.workdir}/${name}`);
  // The server finds its files relative to its compiled modules, and dist/ mirrors src/
  // (tsconfig.build.json): where src/ finds them in the repository, dist/ finds them in
  // the image.
  const has = (path: string) => image.copied.some((c) => path === c.target || path.startsWith(`${c.target}/`));
  for (const [what, file] of [['templates', TEMPLATES_DIR], ['the demo seed', DEMO_FILE], ['package.json', join(ROOT, 'package.json')]] as const) {
    const inImage = posix.resolve(image.workdir, 'dist', relative(join(ROOT, 'src'), file));
    t.ok(has(inImage), `${what}: ${inImage}`);
  }
  const dist = at('dist')!;
  t.ok(dist.from && effective(stages, stageNamed(stages, dist.from)!).runs.some((r) => /\bnpm run build\b/.test(r)), 'dist/ comes from the stage that runs the build');
  const modules = at('node_modules')!;
  t.ok(modules.from, 'node_modules comes from a build stage');
  const deps = effective(stages, stageNamed(stages, modules.from!)!);
  const install = deps.runs.find((r) => /\bnpm ci\b/.test(r));
  t.match(install, /--omit=dev/, 'production dependencies only');
  if (install?.includes('--ignore-scripts')) {
    // Every production package with an install step (native addons) is rebuilt by name.
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }> };
    const needing = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript && !p.dev)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    t.ok(needing.includes('better-sqlite3'));
    for (const name of needing) t.ok(deps.runs.some((r) => new RegExp(`npm rebuild\\b[^&|;]*\\b${name}\\b`).test(r)), `npm rebuild ${name}`);
  }
  // Only what runs: no compiler in the image that runs.
  for (const run of image.runs) t.notMatch(run, /apt-get install|g\+\+|node-gyp/, `runtime RUN ${run}`);
  t.notOk(image.copied.some((c) => c.target === posix.join(image.workdir, 'src') || c.target === posix.join(image.workdir, 'test')), 'no sources or tests');
});

t.test('Dockerfile: the volume stage of the SQLite variant drops root before it serves', async (t) => {
  const volume = stageNamed(stages, 'volume');
  t.ok(volume, 'a stage named volume (docs/fly-sqlite.md builds it)');
  const image = effective(stages, volume!);
  t.match(image.env.MAILCONF_DIRECTORY, /^sqlite:\/data\//);
  t.match(image.entrypoint?.join(' '), /chown -R node:node \/data && exec setpriv --reuid=node --regid=node --init-groups/);
  t.same(image.cmd, ['node', 'dist/server.js']);
});

t.test('.dockerignore keeps the Dockerfile and everything the Dockerfile copies, and no local state', async (t) => {
  for (const path of ['Dockerfile', 'package.json', 'package-lock.json']) t.notOk(ignored(path), `${path} is in the context`);
  // Every source the Dockerfile copies from the context, and every file of the repository below it.
  const sources = stages.flatMap((s) => effective(stages, s).copied.filter((c) => c.from === undefined)).map((c) => c.source.replace(/^\.\//, ''));
  t.ok(sources.includes('templates') && sources.includes('data'));
  for (const source of new Set(sources)) {
    t.ok(existsSync(join(ROOT, source)), `${source} exists`);
    t.notOk(ignored(source), `${source} is in the context`);
    for (const file of repositoryFiles(source)) t.notOk(ignored(file), `${file} is in the context`);
  }
  const leftOut = ['node_modules/fastify/package.json', 'dist/server.js', '.git/HEAD', 'data/directory.db', 'data/directory.db-wal', 'data/directory.db-shm', 'data/directory.db.secret', 'test/app.test.ts', 'coverage/index.html', '.tap/x', '.env'];
  for (const path of leftOut) t.ok(ignored(path), `${path} is left out`);
});

/** The repository's files under `path` (tracked, or new and not ignored by git); all files when git is unavailable. */
function repositoryFiles(path: string): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', path], { cwd: ROOT, encoding: 'utf8' });
    return out.split('\n').filter((f) => f !== '' && existsSync(join(ROOT, f)));
  } catch {
    const walk = (p: string): string[] => (statSync(join(ROOT, p)).isDirectory() ? readdirSync(join(ROOT, p)).flatMap((e) => walk(posix.join(p, e))) : [p]);
    return walk(path);
  }
}

// ---------------------------------------------------------------------------------------
// docs/fly-sqlite.md and the README's Fly section.
// ---------------------------------------------------------------------------------------

t.test('docs/fly-sqlite.md: its fly.toml is one machine on one volume, built from the volume stage', async (t) => {
  const doc = read('docs/fly-sqlite.md');
  const block = /```toml\n([\s\S]*?)```/.exec(doc)?.[1];
  t.ok(block, 'a fly.toml block');
  const variant = parseToml(block!);
  const build = variant.build as TomlTable;
  t.ok(stageNamed(stages, String(build['build-target'])), `build-target "${String(build['build-target'])}" is a Dockerfile stage`);
  const mounts = variant.mounts as TomlTable;
  const env = variant.env as Record<string, string>;
  t.match(env.MAILCONF_DIRECTORY, new RegExp(`^sqlite:${String(mounts.destination)}/`), 'the SQLite file is on the volume');
  t.doesNotThrow(() => configFromEnv({ ...env }));
  const deploy = (variant.deploy ?? {}) as TomlTable;
  t.notOk(['bluegreen', 'canary'].includes(String(deploy.strategy)), 'no strategy that runs a second machine');
  t.equal((variant.http_service as TomlTable).force_https, false);
  t.equal((variant.http_service as TomlTable).internal_port, defaults.port);
  t.match(doc, /fly scale count 1/, 'says to keep exactly one machine');
});

t.test("the README's Fly section and docs/fly-sqlite.md name only commands that exist", async (t) => {
  const readme = read('README.md');
  const start = readme.indexOf('## Deployment (Fly.io)');
  t.ok(start >= 0);
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  t.match(section, /\(docs\/fly-sqlite\.md\)/, 'links the SQLite variant');
  const names = new Set(COMMANDS.map((c) => c.name));
  for (const text of [section, read('docs/fly-sqlite.md')]) {
    // `npx mailconf CMD` and `node bin/mailconf.js CMD`, wherever they appear.
    const invocations = [...text.matchAll(/(?:npx |bin\/)mailconf(?:\.js)? ([a-z][a-z-]*)/g)].map((m) => m[1]!);
    t.ok(invocations.length > 0);
    for (const name of invocations) t.ok(names.has(name), `mailconf ${name} is a command`);
  }
});
