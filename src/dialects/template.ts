// What a dialect needs of the templates: a compiled template by name. Loading and
// compiling the files is start-up work (src/templates.ts); dialects never read files.
import { XMLValidator } from 'fast-xml-parser';

export type Template<T> = (view: T) => string;

export interface TemplateSource {
  get<T>(name: string): Template<T>;
}

/** A template that cannot be used: thrown at start-up, naming the template. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/**
 * `template`, once it has rendered every one of `samples` (between them they take every
 * branch of it). Templates are compiled strict, so a field the view does not have throws;
 * this makes it throw at start-up, naming the template, instead of on every request.
 * `check` may refuse what a sample rendered to (say, XML that is not well-formed).
 */
export function provenTemplate<T>(
  name: string,
  template: Template<T>,
  samples: readonly T[],
  check?: (output: string) => string | undefined,
): Template<T> {
  for (const sample of samples) {
    let output: string;
    try {
      output = template(sample);
    } catch (err) {
      throw new TemplateError(`template ${name}.hbs does not fit its view: ${(err as Error).message}`);
    }
    const problem = check?.(output);
    if (problem) throw new TemplateError(`template ${name}.hbs renders ${problem}`);
  }
  return template;
}

/** Why `xml` is not a well-formed XML document (fast-xml-parser's validator), or undefined. */
export function wellFormedXml(xml: string): string | undefined {
  const valid = XMLValidator.validate(xml);
  return valid === true ? undefined : `XML that is not well-formed (line ${valid.err.line}: ${valid.err.msg})`;
}
