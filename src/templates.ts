// Response bodies come from Handlebars templates in `templates/`, compiled once at
// start-up. `{{value}}` always escapes (& < > " ' ` =), so every interpolated value is
// safe in XML and HTML by construction; the templates never use the raw `{{{ }}}` form.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { TemplateError, type Template, type TemplateSource } from './dialects/template.js';

export { TemplateError };

/** The project's `templates/` folder, from either `src/` or the compiled `dist/` (one level below the root). */
export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

// strict: a field missing from the view is an error, not an empty string;
// knownHelpersOnly: templates use only the built-in block helpers.
const OPTIONS = { strict: true, knownHelpersOnly: true, noEscape: false } as const;

export class Templates implements TemplateSource {
  private readonly compiled = new Map<string, Template<unknown>>();

  /** Compiles every `*.hbs` file in `dir`; a broken one throws a TemplateError naming it. */
  constructor(readonly dir: string = TEMPLATES_DIR) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.hbs'));
    } catch (err) {
      throw new TemplateError(`cannot read templates folder ${dir}: ${(err as Error).message}`);
    }
    const env = Handlebars.create();
    for (const file of files) {
      const source = readFileSync(join(dir, file), 'utf8');
      if (/\{\{\{|\{\{&/.test(source)) throw new TemplateError(`template ${file}: unescaped output is not allowed`);
      try {
        // precompile is eager, so syntax errors surface now rather than on first use.
        env.precompile(source, OPTIONS);
      } catch (err) {
        throw new TemplateError(`template ${file} is broken: ${(err as Error).message}`);
      }
      this.compiled.set(file.slice(0, -'.hbs'.length), env.compile(source, OPTIONS) as Template<unknown>);
    }
  }

  get<T>(name: string): Template<T> {
    const template = this.compiled.get(name);
    if (!template) throw new TemplateError(`template ${name}.hbs is missing from ${this.dir}`);
    return template as Template<T>;
  }
}
