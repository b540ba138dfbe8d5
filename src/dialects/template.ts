// What a dialect needs of the templates: a compiled template by name. Loading and
// compiling the files is start-up work (src/templates.ts); dialects never read files.
export type Template<T> = (view: T) => string;

export interface TemplateSource {
  get<T>(name: string): Template<T>;
}
