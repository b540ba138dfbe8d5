// What every backend's import decides the same way, in words: the problems a directory
// finds in an import and how each is worded and placed. SQLite and PostgreSQL run the same
// judgement (import-stream.ts), so they refuse the same imports with the same messages.
import type { ImportProblem } from './directory.js';

/** Problems kept at most: the first ones in input order (a refusal names these, never more). */
export const MAX_PROBLEMS = 100;

/** A stored key of an account that two accounts cannot share. */
export type ClaimKind = 'domain' | 'mailbox';

/**
 * A key claimed twice: by an earlier entry of the import (the first claimant keeps it),
 * or by an account outside the import. Outside owners are judged on the directory as it
 * is once the imported accounts' own keys are cleared: a domain moving from one imported
 * account to another is no conflict, in whichever order they come (with `replace`,
 * nothing outside is left).
 */
export function claimProblem(kind: ClaimKind, position: string, index: number, key: string, username: string, owner: string): ImportProblem {
  const field = kind === 'domain' ? 'domains' : 'mailboxes';
  const reason =
    owner === username ? `${kind} ${key} is listed twice for account ${username}` : `${kind} ${key} of account ${username} already belongs to account ${owner}`;
  return { position: `${position}.${field}[${index}]`, reason };
}

/** A username given again: the record that repeats it is not imported. */
export function repeatedUsernameProblem(position: string, username: string, firstPosition: string): ImportProblem {
  return { position: `${position}.username`, reason: `username ${username} is already given at ${firstPosition}` };
}

/**
 * The first MAX_PROBLEMS problems in input order, however many are added: a record's
 * ordinal, then its username before its domains before its mailboxes, then the index.
 */
export class ProblemList {
  private items: { order: [number, number, number]; problem: ImportProblem }[] = [];
  private sorted = true;

  add(order: [record: number, field: number, index: number], problem: ImportProblem): void {
    this.items.push({ order, problem });
    this.sorted = false;
    if (this.items.length >= 2 * MAX_PROBLEMS) this.trim();
  }

  get size(): number {
    return Math.min(this.items.length, MAX_PROBLEMS);
  }

  list(): ImportProblem[] {
    this.trim();
    return this.items.map((i) => i.problem);
  }

  private trim(): void {
    if (!this.sorted) {
      this.items.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1] || a.order[2] - b.order[2]);
      this.sorted = true;
    }
    this.items.length = Math.min(this.items.length, MAX_PROBLEMS);
  }
}

/** The `field` rank of ProblemList's order. */
export const FIELD_ORDER = { username: 0, domain: 1, mailbox: 2 } as const;
