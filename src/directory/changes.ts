// What a write to the directory changed, as every instance's cache must hear it, and the
// feed that carries it between instances. Pure: the feeds that do I/O (PostgreSQL
// LISTEN/NOTIFY, Redis pub/sub) implement ChangeFeed in their own files.
import type { ImportAccount } from '../model/account.js';

/**
 * What a write touched: every domain it added or removed and every account (username) it
 * wrote, or 'all' (an import with `replace`, or anything too large to name). Domains an
 * account lost need not be named when its username is: a cache drops whatever that
 * account owned.
 */
export type DirectoryChange = 'all' | { readonly domains?: readonly string[]; readonly usernames?: readonly string[] };

/**
 * The largest encoded change. PostgreSQL's NOTIFY refuses a payload of 8000 bytes or more
 * (default build); the encoding is ASCII, so characters and bytes agree in any database
 * encoding. A change that does not fit is sent as 'all', which is never wrong.
 */
export const MAX_CHANGE_BYTES = 7_999;

/**
 * A channel that carries changes to every instance, this one included.
 *
 * Contract for implementations: a listener hears every change published anywhere after it
 * subscribed, and 'all' whenever the feed may have missed some (its connection dropped and
 * came back), because a cache that missed a change would keep serving it until its TTL.
 */
export interface ChangeFeed {
  /**
   * Whether the feed hears every change right now. A feed that can lose its connection says
   * false from the loss until it has reconnected (and delivered 'all'): meanwhile a cache
   * must not take its entries as fresh, only serve them stale when the backend fails.
   * Absent: always listening (an in-process feed).
   */
  listening?(): boolean;
  /** Calls `listener` for every change; the returned function unsubscribes. */
  subscribe(listener: (change: DirectoryChange) => void): () => void;
  /** Sends `change` to every subscriber (of every instance) once the write is committed. */
  publish(change: DirectoryChange): Promise<void>;
  close(): Promise<void>;
}

/** The change an import makes: with `replace` the whole directory, else its accounts and their domains. */
export function changeOfImport(
  accounts: readonly Pick<ImportAccount, 'username' | 'domains'>[],
  options: { replace: boolean },
): DirectoryChange {
  if (options.replace) return 'all';
  return { usernames: accounts.map((a) => a.username), domains: accounts.flatMap((a) => a.domains) };
}

/** The payload text of a change (JSON, ASCII only); 'all' when the names would not fit in MAX_CHANGE_BYTES. */
export function encodeChange(change: DirectoryChange): string {
  if (change === 'all') return ALL;
  const text = asciiJson({ domains: unique(change.domains), usernames: unique(change.usernames) });
  return text.length <= MAX_CHANGE_BYTES ? text : ALL;
}

/**
 * The change a payload names. Anything unreadable reads as 'all': a message that cannot be
 * understood must still drop what it may have been about.
 */
export function decodeChange(payload: string): DirectoryChange {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return 'all';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'all';
  const { domains = [], usernames = [] } = value as Record<string, unknown>;
  if (!isStringArray(domains) || !isStringArray(usernames)) return 'all';
  return { domains, usernames };
}

const ALL = JSON.stringify('all');

function unique(names: readonly string[] | undefined): string[] {
  return [...new Set(names ?? [])];
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** JSON with every non-ASCII character escaped, so its length is its size in bytes. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A feed inside one process: for tests, and for writers that share the process with the
 * cache. Changes pass through the payload encoding, so they arrive as a remote feed would
 * deliver them (too many names: 'all'). `publish` resolves once every listener has run.
 */
export class LocalChangeFeed implements ChangeFeed {
  private readonly subscribers = new Subscribers();
  private closed = false;

  subscribe(listener: (change: DirectoryChange) => void): () => void {
    return this.closed ? () => {} : this.subscribers.add(listener);
  }

  async publish(change: DirectoryChange): Promise<void> {
    if (this.closed) throw new Error('change feed is closed');
    const failures = this.subscribers.deliver(decodeChange(encodeChange(change)));
    // Every listener ran; a failing one does not keep the change from the others.
    if (failures.length > 0) throw failures[0];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
  }
}

/** A feed's listeners: every one is called for every change, whatever the others throw. */
export class Subscribers {
  private readonly listeners = new Set<{ listener: (change: DirectoryChange) => void }>();

  /** Adds `listener`; the returned function removes it. */
  add(listener: (change: DirectoryChange) => void): () => void {
    // One record per subscription: the same function subscribed twice is called twice.
    const subscription = { listener };
    this.listeners.add(subscription);
    return () => {
      this.listeners.delete(subscription);
    };
  }

  /** Calls every listener with `change`; what they threw. */
  deliver(change: DirectoryChange): unknown[] {
    const failures: unknown[] = [];
    for (const { listener } of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        failures.push(err);
      }
    }
    return failures;
  }

  clear(): void {
    this.listeners.clear();
  }
}

/**
 * The names a write touched, collected one account at a time in bounded memory: once they
 * could no longer fit in MAX_CHANGE_BYTES the collector stops keeping them and the change
 * is 'all' (as encodeChange would make it anyway).
 */
export class ChangeNames {
  private usernames: string[] = [];
  private domains: string[] = [];
  private bytes = ENVELOPE_BYTES;
  private all: boolean;

  /** With `all` (an import with `replace`) the change is 'all' from the start. */
  constructor(all = false) {
    this.all = all;
  }

  add(username: string, domains: readonly string[]): void {
    if (this.all) return;
    // Each name costs at least its encoded text and a comma; repeats are counted too, so
    // this over-counts, never under-counts.
    this.bytes += asciiJson(username).length + 1;
    for (const d of domains) this.bytes += asciiJson(d).length + 1;
    if (this.bytes > MAX_CHANGE_BYTES) {
      this.all = true;
      this.usernames = [];
      this.domains = [];
      return;
    }
    this.usernames.push(username);
    this.domains.push(...domains);
  }

  change(): DirectoryChange {
    return this.all ? 'all' : { usernames: this.usernames, domains: this.domains };
  }
}

/** `{"domains":[],"usernames":[]}`: the encoding around the names. */
const ENVELOPE_BYTES = asciiJson({ domains: [], usernames: [] }).length;
