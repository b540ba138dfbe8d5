// A read-through cache in front of any DirectoryReader. It answers exactly what the
// backend answered, for no longer than a TTL unless the backend is failing, and drops
// what a write changed as soon as it hears of the write (invalidate, or a ChangeFeed).
// While its feed says it is not listening (it may be missing writes), nothing is fresh:
// every lookup asks the backend, and the cache answers only for a backend that fails.
import type { Account } from '../model/account.js';
import type { ChangeFeed, DirectoryChange } from './changes.js';
import type { DirectoryHit, DirectoryReader, MailboxKey } from './directory.js';
import { SegmentedLru } from '../support/segmented-lru.js';

export interface CacheOptions {
  /** Found answers kept at most (one per lookup kind, name and mailbox address or hash). */
  maxEntries: number;
  /** "Unknown domain / username" answers kept at most, apart from the found ones. */
  maxNegativeEntries: number;
  /** How long (ms) a found answer is served without asking the backend. */
  ttlMs: number;
  /** The same for an unknown name: shorter, so a name added without a change heard shows up soon. */
  negativeTtlMs: number;
  /** How old (ms, since it was fetched) an answer may be and still be served while the backend fails. */
  maxStaleMs: number;
  /** The clock (ms, monotonic). */
  now: () => number;
  /** Changes heard here invalidate this cache (unsubscribed on close; the feed's owner closes it). */
  changes: ChangeFeed | undefined;
}

/** The settings an operator chooses (the rest are wiring). */
export type CacheSettings = Omit<CacheOptions, 'now' | 'changes'>;

export const CACHE_DEFAULTS: Readonly<CacheSettings> = {
  // About 750 bytes each (measured, live heap): 20,000 found entries hold about 15 MB.
  maxEntries: 20_000,
  maxNegativeEntries: 5000,
  ttlMs: 60_000,
  negativeTtlMs: 10_000,
  maxStaleMs: 600_000,
};

/** Counters since the cache was made, for metrics; `entries` and `negativeEntries` are gauges. */
export interface CacheStats {
  /** Lookups answered by a fresh found entry. */
  hits: number;
  /** Lookups answered by a fresh unknown-name entry. */
  negativeHits: number;
  /** Lookups that asked the backend (or joined a call already asking for the same answer). */
  misses: number;
  /** Misses that joined a call in flight instead of making their own. */
  coalesced: number;
  /** Misses the backend failed that a stale entry answered. */
  staleServes: number;
  /** Entries pushed out by the size bounds. */
  evictions: number;
  /** Changes applied (invalidate calls, heard or direct). */
  invalidations: number;
  /** Entries those changes dropped. */
  invalidatedEntries: number;
  entries: number;
  negativeEntries: number;
  /** With a feed that can lose its connection: 1 while it hears every change, else 0 (entries are then not trusted as fresh). */
  feedListening?: number;
}

type Kind = 'domain' | 'username';

interface Entry {
  key: string;
  kind: Kind;
  name: string;
  /** The backend's answer; undefined: the name is unknown (whatever the address). */
  hit: DirectoryHit | undefined;
  /** When it was fetched (`now()`). */
  at: number;
}

/**
 * The cache. Key design:
 * - A found answer is keyed by (kind, name, mailbox): the stored login depends on the
 *   address (or on Evolution's hash of one, keyed apart), and an answer for one address
 *   never stands for another.
 * - An unknown name is one entry per (kind, name), whatever the address (a backend finds
 *   no row for an unknown name with any address), in a pool of its own: endless unknown
 *   domains or usernames push out only other unknown names, never a found answer.
 * - Both pools are segmented LRUs: a new entry waits in a probation segment and moves to the
 *   protected one (80%) only when asked for again. An attacker's endless distinct addresses
 *   on real domains are each asked for once, so they only displace one another and other
 *   one-off entries; answers that clients ask for again stay.
 * - Each found entry is indexed by its name and by the account that owns it, so a change
 *   naming a domain or a username drops every answer it may have altered.
 */
export class CachedDirectory implements DirectoryReader {
  readonly description: string;
  private readonly backend: DirectoryReader;
  private readonly options: CacheOptions;
  private readonly found: SegmentedLru<Entry>;
  private readonly unknown: SegmentedLru<Entry>;
  /** Found entry keys by name key (kind and name), and by owning username. */
  private readonly byName = new Map<string, Set<string>>();
  private readonly byOwner = new Map<string, Set<string>>();
  /** Backend calls in flight, by entry key, that a miss for the same answer joins. */
  private readonly inflight = new Map<string, Promise<DirectoryHit | undefined>>();
  /** Bumped by every change: a call that began before one may carry the old data, and is not stored. */
  private epoch = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly counters = {
    hits: 0,
    negativeHits: 0,
    misses: 0,
    coalesced: 0,
    staleServes: 0,
    evictions: 0,
    invalidations: 0,
    invalidatedEntries: 0,
  };

  constructor(backend: DirectoryReader, options: Partial<CacheOptions> = {}) {
    this.backend = backend;
    // The backend's own name: logs and messages read the same with or without the cache.
    this.description = backend.description;
    this.options = {
      maxEntries: options.maxEntries ?? CACHE_DEFAULTS.maxEntries,
      maxNegativeEntries: options.maxNegativeEntries ?? CACHE_DEFAULTS.maxNegativeEntries,
      ttlMs: options.ttlMs ?? CACHE_DEFAULTS.ttlMs,
      negativeTtlMs: options.negativeTtlMs ?? CACHE_DEFAULTS.negativeTtlMs,
      maxStaleMs: options.maxStaleMs ?? CACHE_DEFAULTS.maxStaleMs,
      now: options.now ?? (() => performance.now()),
      changes: options.changes,
    };
    checkOptions(this.options);
    this.found = new SegmentedLru(this.options.maxEntries, (entry) => {
      this.unindex(entry);
      this.counters.evictions++;
    });
    this.unknown = new SegmentedLru(this.options.maxNegativeEntries, () => {
      this.counters.evictions++;
    });
    this.unsubscribe = this.options.changes?.subscribe((change) => this.invalidate(change)) ?? (() => {});
  }

  findByDomain(domain: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    return this.lookup('domain', domain, mailbox);
  }

  findByUsername(username: string, mailbox?: MailboxKey): Promise<DirectoryHit | undefined> {
    return this.lookup('username', username, mailbox);
  }

  /** Always the backend: health must report the real directory, not the cache. */
  ping(): Promise<void> {
    return this.backend.ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.clear();
    await this.backend.close();
  }

  stats(): CacheStats {
    const stats: CacheStats = { ...this.counters, entries: this.found.size, negativeEntries: this.unknown.size };
    if (this.options.changes?.listening) stats.feedListening = this.hearing() ? 1 : 0;
    return stats;
  }

  /** Whether every change is being heard (always, without a feed that can lose its connection). */
  private hearing(): boolean {
    return this.options.changes?.listening?.() ?? true;
  }

  /** Drops every answer `change` may have altered; a call in flight is then not stored. */
  invalidate(change: DirectoryChange): void {
    if (this.closed) return;
    this.counters.invalidations++;
    this.epoch++;
    // Later misses must not join a call that may read the data from before the change.
    this.inflight.clear();
    if (change === 'all') {
      this.counters.invalidatedEntries += this.found.size + this.unknown.size;
      this.clear();
      return;
    }
    const before = this.found.size + this.unknown.size;
    // Writers name lower-case names, as lookups use them; either spelling is dropped.
    const spellings = (names: readonly string[] | undefined) => (names ?? []).flatMap((n) => [n, n.toLowerCase()]);
    const owners = new Set(spellings(change.usernames));
    for (const domain of spellings(change.domains)) {
      // The account that owned the domain may have changed with it: drop all it owns.
      for (const key of this.byName.get(nameKey('domain', domain)) ?? []) {
        const owner = this.found.get(key)?.hit?.account.username;
        if (owner !== undefined) owners.add(owner);
      }
      this.dropName('domain', domain);
    }
    for (const username of owners) {
      this.dropName('username', username);
      this.dropOwner(username);
    }
    this.counters.invalidatedEntries += before - (this.found.size + this.unknown.size);
  }

  private async lookup(kind: Kind, name: string, address: MailboxKey | undefined): Promise<DirectoryHit | undefined> {
    if (this.closed) throw new Error(`directory ${this.description} is closed`);
    const key = entryKey(kind, name, address);
    const cached = this.cached(kind, name, key);
    // A feed that is not listening may be missing changes: then no entry counts as fresh,
    // every lookup asks the backend, and an entry answers only if the backend fails.
    if (cached && this.options.now() - cached.at < this.ttlOf(cached) && this.hearing()) {
      if (cached.hit) this.counters.hits++;
      else this.counters.negativeHits++;
      return copyHit(cached.hit);
    }
    this.counters.misses++;
    try {
      return copyHit(await this.fetch(kind, name, address, key));
    } catch (err) {
      // Looked up again: a change heard while the backend failed may have dropped the entry.
      const stale = this.cached(kind, name, key);
      if (!stale) throw err;
      this.counters.staleServes++;
      return copyHit(stale.hit);
    }
  }

  /** The entry answering (kind, name, address), touched; one too old even to serve stale is dropped. */
  private cached(kind: Kind, name: string, key: string): Entry | undefined {
    const negative = this.unknown.get(nameKey(kind, name));
    const entry = negative ?? this.found.get(key);
    if (!entry) return undefined;
    if (this.options.now() - entry.at > Math.max(this.options.maxStaleMs, this.ttlOf(entry))) {
      this.remove(entry);
      return undefined;
    }
    (entry.hit ? this.found : this.unknown).touch(entry.key);
    return entry;
  }

  private ttlOf(entry: Entry): number {
    return entry.hit ? this.options.ttlMs : this.options.negativeTtlMs;
  }

  /** One backend call per answer at a time: concurrent misses for the same key share it. */
  private fetch(kind: Kind, name: string, address: MailboxKey | undefined, key: string): Promise<DirectoryHit | undefined> {
    const running = this.inflight.get(key);
    if (running) {
      this.counters.coalesced++;
      return running;
    }
    const epoch = this.epoch;
    const call = Promise.resolve()
      .then(() => (kind === 'domain' ? this.backend.findByDomain(name, address) : this.backend.findByUsername(name, address)))
      .then((hit) => {
        if (epoch === this.epoch && !this.closed) this.store(kind, name, key, copyHit(hit));
        return hit;
      });
    const settle = () => {
      if (this.inflight.get(key) === call) this.inflight.delete(key);
    };
    call.then(settle, settle);
    this.inflight.set(key, call);
    return call;
  }

  private store(kind: Kind, name: string, key: string, hit: DirectoryHit | undefined): void {
    const at = this.options.now();
    if (!hit) {
      // The name is gone: no answer through it stands, nor (for an account) anything it owned.
      this.dropName(kind, name);
      if (kind === 'username') this.dropOwner(name);
      const nk = nameKey(kind, name);
      this.unknown.set(nk, { key: nk, kind, name, hit: undefined, at });
      return;
    }
    this.unknown.delete(nameKey(kind, name));
    // Answers that disagree with this fresher one (the domain moved, the account changed)
    // are dropped, so that the cache never holds two versions of one account or name.
    const owner = hit.account.username;
    const sameName = this.byName.get(nameKey(kind, name));
    if (sameName && !this.agrees(sameName, hit.account)) this.dropName(kind, name);
    const sameOwner = this.byOwner.get(owner);
    if (sameOwner && !this.agrees(sameOwner, hit.account)) this.dropOwner(owner);

    const old = this.found.get(key);
    if (old) this.unindex(old);
    const entry: Entry = { key, kind, name, hit, at };
    this.found.set(key, entry);
    addTo(this.byName, nameKey(kind, name), key);
    addTo(this.byOwner, owner, key);
  }

  /** Whether the entries `keys` hold (all alike, by the rule above) carry `account`. */
  private agrees(keys: Set<string>, account: Account): boolean {
    for (const key of keys) {
      const other = this.found.get(key)?.hit?.account;
      return other !== undefined && sameAccount(other, account);
    }
    return true;
  }

  private dropName(kind: Kind, name: string): void {
    const nk = nameKey(kind, name);
    this.unknown.delete(nk);
    for (const key of [...(this.byName.get(nk) ?? [])]) this.removeKey(key);
  }

  private dropOwner(username: string): void {
    for (const key of [...(this.byOwner.get(username) ?? [])]) this.removeKey(key);
  }

  private removeKey(key: string): void {
    const entry = this.found.get(key);
    if (entry) this.remove(entry);
  }

  private remove(entry: Entry): void {
    if (entry.hit) {
      this.found.delete(entry.key);
      this.unindex(entry);
    } else {
      this.unknown.delete(entry.key);
    }
  }

  private unindex(entry: Entry): void {
    removeFrom(this.byName, nameKey(entry.kind, entry.name), entry.key);
    if (entry.hit) removeFrom(this.byOwner, entry.hit.account.username, entry.key);
  }

  private clear(): void {
    this.found.clear();
    this.unknown.clear();
    this.byName.clear();
    this.byOwner.clear();
    this.inflight.clear();
  }
}

// JSON keys: no name or address, whatever characters it holds, can be mistaken for another.
function nameKey(kind: Kind, name: string): string {
  return JSON.stringify([kind, name]);
}

// A hashed mailbox is keyed apart from any address: `["domain","d","x"]` against
// `["domain","d",{"md5":"x"}]`, so a hash never stands for an address, nor one hash for another.
function entryKey(kind: Kind, name: string, mailbox: MailboxKey | undefined): string {
  return JSON.stringify([kind, name, mailbox === undefined ? null : typeof mailbox === 'string' ? mailbox : { md5: mailbox.md5 }]);
}

/** A copy for each caller: nobody can alter the cached answer through the one they were given. */
function copyHit(hit: DirectoryHit | undefined): DirectoryHit | undefined {
  return hit && { account: { ...hit.account }, mailboxLogin: hit.mailboxLogin, domainHasMailboxLogins: hit.domainHasMailboxLogins };
}

function sameAccount(a: Account, b: Account): boolean {
  const keys = Object.keys(a) as (keyof Account)[];
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

function addTo(index: Map<string, Set<string>>, group: string, key: string): void {
  const keys = index.get(group);
  if (keys) keys.add(key);
  else index.set(group, new Set([key]));
}

function removeFrom(index: Map<string, Set<string>>, group: string, key: string): void {
  const keys = index.get(group);
  if (!keys) return;
  keys.delete(key);
  if (keys.size === 0) index.delete(group);
}

function checkOptions(options: CacheOptions): void {
  for (const name of ['maxEntries', 'maxNegativeEntries'] as const) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1) throw new RangeError(`cache ${name} must be a whole number of at least 1`);
  }
  for (const name of ['ttlMs', 'negativeTtlMs', 'maxStaleMs'] as const) {
    if (!Number.isFinite(options[name]) || options[name] < 0) throw new RangeError(`cache ${name} must be a number of milliseconds, 0 or more`);
  }
}
