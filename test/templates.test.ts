import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadProvider, ProviderProfileError } from '../src/config/provider-file.js';
import { TemplateError, Templates } from '../src/templates.js';

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
