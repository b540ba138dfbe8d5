// The layer rules of docs/ARCHITECTURE.md, read from the import lines of src/: a change
// that makes an import cross a layer boundary fails here, naming the file and the import.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import t from 'tap';

const SRC = resolve(import.meta.dirname, '../src');

interface Import {
  /** The file importing, relative to src/ with `/` separators. */
  file: string;
  /** What is imported: a src/-relative path without extension for our own modules, else the package name. */
  target: string;
  own: boolean;
  typeOnly: boolean;
  line: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const rel = (path: string) => relative(SRC, path).split(sep).join('/');

/** Every static import, re-export and dynamic import() of a file. */
export function importsOf(path: string, text: string): Import[] {
  const found: Import[] = [];
  const pattern = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(pattern)) {
    const spec = (m[3] ?? m[4])!;
    const own = spec.startsWith('.');
    const target = own ? rel(resolve(dirname(path), spec)).replace(/\.js$/, '') : spec.replace(/^node:/, '');
    found.push({ file: rel(path), target, own, typeOnly: Boolean(m[2]), line: m[0].trim() });
  }
  return found;
}

const files = sourceFiles(SRC);
const imports = files.flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));
/** The layer of a src/-relative path: its first folder, or the file name for top-level files. */
const layer = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.ts$/, ''));

/** Which of our layers each layer may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  support: [],
  model: [],
  policy: ['model'],
  directory: ['model', 'support'],
  links: ['model'],
  signing: [],
  pipeline: ['model', 'policy', 'directory', 'support'],
  accounts: ['model', 'policy', 'directory'],
  dialects: ['model', 'policy', 'links', 'pipeline', 'support'],
  templates: ['dialects'],
  config: ['model', 'policy', 'directory', 'signing'],
  // accounts/: the admin API (http/admin/) validates and reads and writes the import formats as the CLI does.
  http: ['model', 'policy', 'links', 'pipeline', 'dialects', 'config', 'directory', 'support', 'accounts'],
  cli: ['model', 'policy', 'links', 'pipeline', 'dialects', 'config', 'directory', 'accounts'],
  server: ['accounts', 'config', 'dialects', 'http', 'signing', 'templates'],
};

t.test('the import reader sees every form of import', async (t) => {
  const text = [
    "import { a } from './model/address.js';",
    "import type { B } from '../policy/settings.js';",
    "export { c } from './links.js';",
    "import 'node:fs';",
    "const x = await import('./pipeline.js');",
    "import Fastify, {\n  type FastifyInstance,\n} from 'fastify';",
  ].join('\n');
  const found = importsOf(join(SRC, 'http/app.ts'), text);
  t.same(
    found.map((i) => [i.target, i.own, i.typeOnly]),
    [
      ['http/model/address', true, false],
      ['policy/settings', true, true],
      ['http/links', true, false],
      ['fs', false, false],
      ['http/pipeline', true, false],
      ['fastify', false, false],
    ],
  );
});

t.test('every src/ file is in a known layer', async (t) => {
  t.ok(files.length > 30, `read ${files.length} files`);
  for (const f of files) t.ok(Object.hasOwn(ALLOWED, layer(rel(f))), `${rel(f)} belongs to a layer`);
});

t.test('imports run downhill: each layer imports only the layers below it', async (t) => {
  const crossings = imports
    .filter((i) => i.own && layer(i.target) !== layer(i.file))
    .filter((i) => !ALLOWED[layer(i.file)]?.includes(layer(i.target)))
    .map((i) => `${i.file}: ${i.line}`);
  t.same(crossings, [], 'no import crosses the layer rules');
});

t.test('dialects never touch HTTP, files, the environment or the directory', async (t) => {
  const FORBIDDEN = ['fastify', 'fs', 'fs/promises', 'better-sqlite3', 'pg', 'ioredis'];
  const bad = imports.filter(
    (i) =>
      ['dialects', 'policy', 'model', 'pipeline', 'links'].includes(layer(i.file)) &&
      (FORBIDDEN.includes(i.target) || (i.own && ['config', 'directory'].includes(layer(i.target)) && layer(i.file) === 'dialects')),
  );
  t.same(bad.map((i) => `${i.file}: ${i.line}`), []);
});

t.test('model, policy, the pipeline and support do no I/O', async (t) => {
  const IO = ['fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'fastify', 'better-sqlite3'];
  const bad = imports.filter((i) => ['model', 'policy', 'pipeline', 'support'].includes(layer(i.file)) && IO.includes(i.target));
  t.same(bad.map((i) => `${i.file}: ${i.line}`), []);
});

t.test('only http/ and cli/ call the pipeline (others may name its types)', async (t) => {
  const callers = imports
    .filter((i) => i.own && layer(i.target) === 'pipeline' && layer(i.file) !== 'pipeline' && !i.typeOnly && !/^import\s+type\b|\{\s*type\s/.test(i.line))
    .map((i) => layer(i.file));
  t.ok(callers.length > 0, 'the pipeline has callers');
  t.same([...new Set(callers)].filter((l) => l !== 'http' && l !== 'cli'), []);
});

t.test('only config/ reads the environment', async (t) => {
  const readers = files
    .filter((f) => layer(rel(f)) !== 'config' && /\bprocess\.env\b/.test(readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
    .map(rel);
  t.same(readers, []);
});

t.test('http/ uses of accounts/ only its validator, formats and validated stream, never the opening of a directory', async (t) => {
  const used = imports.filter((i) => i.own && layer(i.file) === 'http' && layer(i.target) === 'accounts').map((i) => i.target);
  t.ok(used.length > 0, 'the admin API reads accounts as the CLI does');
  const allowed = (target: string) => /^accounts\/(validate|records|formats\/[a-z-]+)$/.test(target);
  t.same(used.filter((target) => !allowed(target)), []);
});
