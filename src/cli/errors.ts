// How a command line goes wrong, as exit statuses and error classes, and the few text
// helpers every message uses. `main` (mailconf.ts) turns the errors into one stderr line.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line is wrong: exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Whether to point at --help (not when the message already shows the usage). */
    readonly hint = true,
  ) {
    super(message);
  }
}

/** The command ran and failed: exit 1. */
export class Failure extends Error {}

/** One line, whatever the text holds (error messages can carry newlines). */
export const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
export const quote = (text: string) => JSON.stringify(text);
export const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

/** "4 accounts, 5 domains, 1 mailbox login": what an import or export carried. */
export const accountsText = (c: { accounts: number; domains: number; mailboxes: number }) =>
  `${plural(c.accounts, 'account')}, ${plural(c.domains, 'domain')}, ${plural(c.mailboxes, 'mailbox login')}`;
