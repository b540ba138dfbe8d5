// The whole pipeline to a finished answer, with a cache of answers between the directory
// and the policy. The directory is asked on every request (its own cache, when there is
// one, decides how fresh that is); what is cached is only the work after it: the policy
// and the dialect's rendering.
//
// Why it can never serve an answer the directory no longer gives: the key holds everything
// the answer is made from: the dialect and its request inputs, the target (domain and the
// address exactly as typed: it is echoed), and every field of the account and the stored
// login the directory returned for this request. A change to the account, its login, the
// domain's owner or the account's era gives another key; the old entry is then unreachable
// and ages out of the bounded LRU. The provider profile is fixed for the process.
import type { MailTarget } from '../model/address.js';
import type { Account } from '../model/account.js';
import type { DirectoryHit, DirectoryReader } from '../directory/directory.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import { SegmentedLru } from '../support/segmented-lru.js';
import { decide, findAccount, type Resolution } from './lookup.js';

/** What a request got: the pipeline's Resolution (for logs and metrics) and the dialect's answer. */
export interface Answered<A> {
  readonly resolution: Resolution;
  readonly answer: A;
}

export type AnswerCacheStats = {
  hits: number;
  misses: number;
  evictions: number;
  entries: number;
};

/** The account fields an answer is made from: all of them (the type check below keeps it so). */
const ACCOUNT_FIELDS = ['username', 'created', 'mailServer'] as const;
// Fails to compile when Account gains a field the key does not hold.
const everyAccountField: Exclude<keyof Account, (typeof ACCOUNT_FIELDS)[number]> extends never ? true : never = true;
void everyAccountField;
/** The hit's fields besides the account: all of them are in the key (the type check below keeps it so). */
const HIT_FIELDS = ['account', 'mailboxLogin', 'domainHasMailboxLogins'] as const;
const everyHitField: Exclude<keyof DirectoryHit, (typeof HIT_FIELDS)[number]> extends never ? true : never = true;
void everyHitField;

/** Bounded answers, keyed by what they are made from. `maxEntries` 0: nothing is kept. */
export class AnswerCache<A> {
  private readonly lru: SegmentedLru<Answered<A>> | undefined;
  private readonly counters = { hits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) throw new RangeError('answer cache size must be a whole number, 0 or more');
    this.lru = maxEntries > 0 ? new SegmentedLru(maxEntries, () => this.counters.evictions++) : undefined;
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  get(key: string): Answered<A> | undefined {
    const found = this.lru?.get(key);
    if (found) {
      this.counters.hits++;
      this.lru!.touch(key);
    } else this.counters.misses++;
    return found;
  }

  set(key: string, answered: Answered<A>): void {
    this.lru?.set(key, frozen(answered));
  }

  stats(): AnswerCacheStats {
    return { ...this.counters, entries: this.lru?.size ?? 0 };
  }
}

/**
 * The key of an answer: each part length-prefixed (`5:jane@`), absent ones as `~`, so no
 * value, whatever characters it holds, can run into the next part and stand for another.
 */
export function answerKey(variant: readonly string[], target: MailTarget, hit: DirectoryHit): string {
  // Evolution's hash, when it named the mailbox: two hashes never share an answer. The same
  // stored login can answer two hashes differently (it is no override for the mailbox
  // whose own address it is: policy/settings.ts loginFor).
  let key = part(target.domain) + part(target.address?.address) + part(target.mailboxMd5) + part(hit.mailboxLogin);
  // Whether the domain has stored per-mailbox logins: it decides whether PACC publishes.
  key += part(hit.domainHasMailboxLogins === null ? null : hit.domainHasMailboxLogins ? 'y' : 'n');
  for (const field of ACCOUNT_FIELDS) key += part(hit.account[field]);
  for (const v of variant) key += part(v);
  return key;
}

function part(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '~';
  const text = typeof value === 'number' ? `#${value}` : value;
  return `${text.length}:${text}`;
}

/**
 * The pipeline for one request, to its answer. `variant` names the dialect and every
 * input besides the Resolution that `render` reads (the request method, the format asked
 * for, the text as typed ...): two requests share an answer only when all of it is equal.
 * Outcomes without an account (unknown, unavailable, address required) are rendered each
 * time: they cost little, and a scanner's endless names must not fill the cache.
 */
export async function answerFor<A>(
  target: MailTarget,
  directory: DirectoryReader,
  profile: ProviderProfile,
  cache: AnswerCache<A>,
  variant: readonly string[],
  render: (resolution: Resolution) => A | Promise<A>,
): Promise<Answered<A>> {
  const found = await findAccount(target, directory, profile);
  if (found.kind !== 'found') return { resolution: found, answer: await render(found) };
  const key = cache.enabled ? answerKey(variant, target, found.hit) : undefined;
  const cached = key === undefined ? undefined : cache.get(key);
  if (cached) return cached;
  const resolution = decide(target, found.hit, profile);
  const answered = { resolution, answer: await render(resolution) };
  if (key !== undefined) cache.set(key, answered);
  return answered;
}

/**
 * The entry and its answer frozen, with the answer's own objects (its headers): a shared
 * answer stays as it was made. Byte buffers cannot be frozen; the Resolution's settings are
 * only read (by the metrics and the log) and are left as they are: freezing every object
 * of every entry gave V8 a map per object, more memory than the answers themselves.
 */
function frozen<A>(answered: Answered<A>): Answered<A> {
  const { answer } = answered;
  if (answer !== null && typeof answer === 'object') {
    for (const inner of Object.values(answer)) {
      if (inner !== null && typeof inner === 'object' && !ArrayBuffer.isView(inner)) Object.freeze(inner);
    }
    Object.freeze(answer);
  }
  return Object.freeze(answered);
}
