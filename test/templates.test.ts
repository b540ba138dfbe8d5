import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadProvider, ProviderProfileError } from '../src/config/provider-file.js';
import { autoconfigDialect } from '../src/dialects/autoconfig.js';
import { autodiscoverPoxDialect } from '../src/dialects/autodiscover-pox.js';
import { createDialects } from '../src/dialects/index.js';
import { settingsPageDialect } from '../src/dialects/settings-page.js';
import { defaultProvider } from '../src/policy/provider-profile.js';
import { TEMPLATES_DIR, TemplateError, Templates } from '../src/templates.js';

t.test('the shipped templates compile', async (t) => {
  const templates = new Templates();
  for (const name of ['autoconfig.xml', 'autodiscover.xml', 'autodiscover-error.xml']) t.type(templates.get(name), 'function');
  t.throws(() => templates.get('nope'), { constructor: TemplateError, message: /nope\.hbs is missing/ });
});

t.test('a broken template stops start-up naming the file', async (t) => {
  const dir = t.testdir({ 'good.hbs': '<a>{{x}}</a>', 'broken.hbs': '<a>{{#each x}}</a>' });
  t.throws(() => new Templates(dir), { constructor: TemplateError, message: /broken\.hbs is broken/ });
  const raw = t.testdir({ 'raw.hbs': '<a>{{{x}}}</a>' });
  t.throws(() => new Templates(raw), { message: /raw\.hbs: unescaped output is not allowed/ });
  t.throws(() => new Templates(join(dir, 'missing')), { message: /cannot read templates folder/ });
});

t.test('templates escape every value and refuse missing fields', async (t) => {
  const dir = t.testdir({ 'x.hbs': '<a b="{{v}}">{{v}}</a>' });
  const render = new Templates(dir).get<{ v: string }>('x');
  t.equal(render({ v: `&<>"'` }), '<a b="&amp;&lt;&gt;&quot;&#x27;">&amp;&lt;&gt;&quot;&#x27;</a>');
  t.throws(() => (render as (v: object) => string)({}), /"v" not defined/);
});

t.test('provider profiles: defaults, overrides, and clear errors', async (t) => {
  t.equal(loadProvider().id, 'pair.com');
  const dir = t.testdir();
  const file = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    return path;
  };
  const p = loadProvider(file('ok.json', JSON.stringify({ id: 'example.net', displayName: 'Example Mail', accountNamedDomains: [] })));
  t.match(p, { id: 'example.net', displayName: 'Example Mail', eraCutoff: '2011-06-01', accountNamedDomains: [] });
  for (const [name, body, message] of [
    ['bad.json', '{', /cannot read provider profile/],
    ['list.json', '[]', /must be a JSON object/],
    ['unknown.json', '{"colour":"red"}', /unknown field "colour"/],
    ['id.json', '{"id":"Not A Host"}', /id must be/],
    ['zone.json', '{"timeZone":"Mars/Olympus"}', /not a known time zone/],
    ['host.json', '{"oldEraHost":"mail.pair.com"}', /oldEraHost must contain/],
    ['short.json', '{"displayShortName":"a name that is far too long"}', /displayShortName/],
    ['size.json', '{"maxMessageBytes":-1}', /maxMessageBytes/],
  ] as const) {
    t.throws(() => loadProvider(file(name, body)), { constructor: ProviderProfileError, message }, name);
  }
  t.throws(() => loadProvider(join(dir, 'absent.json')), { message: /cannot read provider profile/ });
});

/** A copy of the shipped templates in a temp folder, with `name` changed by `edit`. */
function templatesWith(t: Test, name: string, edit: (source: string) => string): Templates {
  const files: Record<string, string> = {};
  for (const file of readdirSync(TEMPLATES_DIR).filter((f) => f.endsWith('.hbs'))) {
    const source = readFileSync(join(TEMPLATES_DIR, file), 'utf8');
    files[file] = file === `${name}.hbs` ? edit(source) : source;
  }
  t.not(files[`${name}.hbs`], readFileSync(join(TEMPLATES_DIR, `${name}.hbs`), 'utf8'), `${name}.hbs was changed`);
  return new Templates(t.testdir(files));
}

const publicUrl = new URL('https://mailconf.example');
const dialectsFrom = (templates: Templates) => createDialects({ templates, profile: defaultProvider, publicUrl, secret: 'a-secret-of-16-chars-or-more' });

t.test('a template naming a field its view lacks stops start-up, naming the template', async (t) => {
  t.ok(dialectsFrom(new Templates()), 'the shipped templates fit their views');
  // Each in a branch a simple request would not take: only rendering every sample finds it.
  const cases: Array<[string, string, string, (templates: Templates) => unknown]> = [
    ['autoconfig.xml', '<port>{{port}}</port>', '<port>{{portNumber}}</port>', (x) => autoconfigDialect(x)],
    ['autodiscover.xml', '<LoginName>{{loginName}}</LoginName>', '<LoginName>{{login}}</LoginName>', (x) => autodiscoverPoxDialect(x)],
    ['autodiscover-error.xml', '<Message>{{message}}</Message>', '<Message>{{text}}</Message>', (x) => autodiscoverPoxDialect(x)],
    ['settings-page.html', '<p class="problem" id="problem" role="alert">{{message}}</p>', '<p class="problem" id="problem" role="alert">{{problem}}</p>', (x) => dialectsFrom(x)],
    ['settings-page.html', '<dd id="login">your full email address, for example <code>name@{{domain}}</code></dd>', '<dd id="login">{{loginHint}}</dd>', (x) => settingsPageDialect(x, defaultProvider, 'https://mailconf.example')],
    ['settings-page.html', '<pre><code>{{links.curlPox}}</code></pre>', '<pre><code>{{links.curlOutlook}}</code></pre>', (x) => dialectsFrom(x)],
  ];
  for (const [name, from, to, make] of cases) {
    const templates = templatesWith(t, name, (source) => source.replace(from, to));
    const field = /\{\{([\w.]+)\}\}/.exec(to)![1]!.split('.').at(-1)!;
    t.throws(() => make(templates), { constructor: TemplateError, message: new RegExp(`template ${name.replace('.', '\\.')}\\.hbs does not fit its view: "${field}" not defined`) }, `${name}: {{${field}}}`);
  }
});

t.test('an XML template that renders XML that is not well-formed stops start-up', async (t) => {
  for (const [name, make] of [
    ['autoconfig.xml', (x: Templates) => autoconfigDialect(x)],
    ['autodiscover.xml', (x: Templates) => autodiscoverPoxDialect(x)],
    ['autodiscover-error.xml', (x: Templates) => autodiscoverPoxDialect(x)],
  ] as const) {
    const templates = templatesWith(t, name, (source) => source.replace(/<\/(port|Port|ErrorCode)>/, '</wrong>'));
    t.throws(() => make(templates), { constructor: TemplateError, message: new RegExp(`template ${name.replace('.', '\\.')}\\.hbs renders XML that is not well-formed`) }, name);
  }
});
