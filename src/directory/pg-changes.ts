// The PostgreSQL change feed: LISTEN/NOTIFY on one channel of the directory's database.
// Writers notify inside their own transaction (PostgresDirectory.importStream, deleteAccount, deleteDomain), so a
// change is announced if and only if it commits, whatever path wrote it; every instance
// listens on a connection of its own (not one of the pool's, which are shared and come and
// go) and hears its own writes and everyone else's. That connection must reach PostgreSQL
// itself or a session-mode pooler: behind PgBouncer's transaction mode LISTEN is accepted
// but nothing is ever heard. The channel is per database (not per schema).
//
// The listening connection can drop at any time (database restart, network cut, a blocked
// link that stops answering). The feed then says it is not listening (`listening()`: a
// cache must not trust its entries meanwhile), reconnects with growing delays, and after
// every connection delivers 'all': it may have missed changes while it was away. Nothing
// that happens to the connection is thrown into the process.
import pg from 'pg';
import { decodeChange, encodeChange, Subscribers, type ChangeFeed, type DirectoryChange } from './changes.js';
import type { TimedQuery } from './postgres.js';
import { maskDirectoryUrl, redactDirectoryUrl } from './url.js';

/** The channel every mailconf instance on a database listens on and every write notifies. */
export const CHANGE_CHANNEL = 'mailconf_directory';

/** What the feed tells its owner, for logs: never needed for correctness. */
export type FeedEvent =
  /** LISTEN is in place (the first time, or again after a loss); 'all' has just been delivered. */
  | { kind: 'listening'; reconnected: boolean }
  /**
   * The connection was lost (or could not be made); the feed retries after `retryInMs`.
   * `first`: the first report of this outage (log it loudly; the retries that follow, quietly).
   */
  | { kind: 'lost'; reason: string; retryInMs: number; first: boolean };

export interface PostgresFeedOptions {
  /** How long (ms) one connection attempt may take. */
  connectTimeoutMs: number;
  /**
   * How often (ms) the listening connection is asked a trivial query; one not answered
   * within as long counts as lost. A connection cut cleanly is noticed at once; this bounds
   * how long a link that silently stopped answering goes unnoticed.
   */
  checkIntervalMs: number;
  /** The first delay (ms) before reconnecting; doubled after each failed attempt, up to `retryMaxMs`. */
  retryMinMs: number;
  retryMaxMs: number;
  /** Told of every connection lost and made (a throwing callback is ignored). */
  onEvent: ((event: FeedEvent) => void) | undefined;
}

export const FEED_DEFAULTS: Readonly<Omit<PostgresFeedOptions, 'onEvent'>> = {
  connectTimeoutMs: 5000,
  checkIntervalMs: 2000,
  retryMinMs: 100,
  retryMaxMs: 5000,
};

/** Counters for metrics; `listening` is 1 or 0. */
export interface FeedStats {
  listening: number;
  /** Connections made (LISTEN in place), the first included. */
  connects: number;
  /** Connections lost or attempts failed. */
  losses: number;
  /** Notifications heard on the channel. */
  notifications: number;
}

export class PostgresChangeFeed implements ChangeFeed {
  /** The database URL with its password masked. */
  readonly description: string;
  private readonly url: string;
  private readonly options: PostgresFeedOptions;
  private readonly subscribers = new Subscribers();
  private client: pg.Client | undefined;
  private isListening = false;
  private closed = false;
  /** Failed attempts (and connections lost before their first check) since a connection last passed a check: the backoff exponent. */
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  /** The attempt in progress, so that close() can wait for it. */
  private connecting: Promise<void> | undefined;
  private readonly counters = { connects: 0, losses: 0, notifications: 0 };
  /** A loss was reported and no connection since. */
  private inOutage = false;

  private constructor(url: string, options: Partial<PostgresFeedOptions>) {
    this.url = url;
    this.description = maskDirectoryUrl(url);
    this.options = { ...FEED_DEFAULTS, onEvent: undefined, ...definedOnly(options) };
  }

  /**
   * Starts listening on the database at `url`. Resolves once the first attempt is over,
   * whether or not it succeeded: a feed that could not connect keeps trying, and says so
   * through `listening()` and `onEvent`. It never rejects.
   */
  static async open(url: string, options: Partial<PostgresFeedOptions> = {}): Promise<PostgresChangeFeed> {
    const feed = new PostgresChangeFeed(url, options);
    await feed.attempt();
    return feed;
  }

  /** True while LISTEN is in place on a connection believed alive: every committed change is heard. */
  listening(): boolean {
    return this.isListening;
  }

  stats(): FeedStats {
    return { listening: this.isListening ? 1 : 0, ...this.counters };
  }

  subscribe(listener: (change: DirectoryChange) => void): () => void {
    return this.closed ? () => {} : this.subscribers.add(listener);
  }

  /**
   * Notifies every instance of `change` now, outside any transaction: for a writer that
   * does not go through PostgresDirectory (which notifies inside its own transactions).
   * Call it after the write has committed. Uses the listening connection, or one of its
   * own while that is down.
   */
  async publish(change: DirectoryChange): Promise<void> {
    if (this.closed) throw new Error('change feed is closed');
    const args = [CHANGE_CHANNEL, encodeChange(change)];
    const listening = this.isListening ? this.client : undefined;
    const own = listening ? undefined : new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.options.connectTimeoutMs });
    own?.on('error', () => undefined);
    try {
      if (own) await own.connect();
      await (listening ?? own)!.query('SELECT pg_notify($1, $2)', args);
    } catch (err) {
      throw new Error(redactDirectoryUrl(`cannot publish a directory change on ${this.description}: ${describe(err)}`, this.url));
    } finally {
      if (own) await endClient(own);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.isListening = false;
    this.subscribers.clear();
    clearTimeout(this.retryTimer);
    clearTimeout(this.checkTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      // An attempt still connecting is cut rather than waited for (up to connectTimeoutMs).
      if (this.connecting) client.connection.stream.destroy();
      await endClient(client);
    }
    await this.connecting;
  }

  /** One connection attempt: connect, LISTEN, then deliver 'all'; on failure, a retry is scheduled. */
  private attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.closed) return Promise.resolve();
    const run = this.connect().finally(() => {
      if (this.connecting === run) this.connecting = undefined;
    });
    this.connecting = run;
    return run;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      fallback_application_name: 'mailconf listen',
      keepAlive: true,
    });
    // Registered first and never removed: an error on this connection, now or after it was
    // dropped, must never become an unhandled 'error' event.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (message) => {
      if (client !== this.client || message.channel !== CHANGE_CHANNEL) return;
      this.counters.notifications++;
      this.deliver(decodeChange(message.payload ?? ''));
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed || client !== this.client) {
      // Closed (or lost) while connecting: this connection is not wanted.
      if (this.client === client) this.client = undefined;
      await endClient(client);
      return;
    }
    const reconnected = this.counters.connects > 0 || this.failures > 0;
    this.counters.connects++;
    this.isListening = true;
    // Whatever changed before LISTEN took effect was not heard: drop everything once.
    this.deliver('all');
    this.inOutage = false;
    this.report({ kind: 'listening', reconnected });
    this.scheduleCheck(client);
  }

  /** Asks the connection a trivial query every checkIntervalMs; no answer in time: lost. */
  private scheduleCheck(client: pg.Client): void {
    clearTimeout(this.checkTimer);
    this.checkTimer = setTimeout(() => {
      if (client !== this.client || this.closed) return;
      const check: TimedQuery = { text: 'SELECT 1', query_timeout: this.options.checkIntervalMs };
      client.query(check).then(
        () => {
          if (client !== this.client) return;
          // Only a connection that lasted resets the backoff: one the server drops at once
          // (or a flapping link) is retried ever more slowly, not ten times a second.
          this.failures = 0;
          this.scheduleCheck(client);
        },
        (err: unknown) => this.lost(client, err),
      );
    }, this.options.checkIntervalMs);
    this.checkTimer.unref();
  }

  /** `client` is gone (or never came): drop it and, unless closed, try again after a delay. */
  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.isListening = false;
    clearTimeout(this.checkTimer);
    // A connection that stopped answering would keep its socket open: cut it.
    client.connection.stream.destroy();
    void endClient(client);
    if (this.closed) return;
    this.counters.losses++;
    const base = Math.min(this.options.retryMaxMs, this.options.retryMinMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    // Jitter: a fleet that lost the database together does not come back in lockstep.
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.report({ kind: 'lost', reason: redactDirectoryUrl(describe(err), this.url), retryInMs: delay, first: !this.inOutage });
    this.inOutage = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
    this.retryTimer.unref();
  }

  /** One listener's failure neither reaches the connection nor keeps the change from the others. */
  private deliver(change: DirectoryChange): void {
    this.subscribers.deliver(change);
  }

  private report(event: FeedEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // a logging callback cannot break the feed
    }
  }
}

/** Ends `client`, waiting at most a second for the server's goodbye (a link that stopped answering never sends it). */
async function endClient(client: pg.Client): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.connection.stream.destroy();
      resolve();
    }, 1000);
  });
  await Promise.race([client.end().catch(() => undefined), waited]);
  clearTimeout(timer);
}

function describe(err: unknown): string {
  const e = err as Error & { code?: string };
  // pg's AggregateError (every address of a host refused) has an empty message.
  return e?.message || (e instanceof AggregateError ? e.errors.map((x: Error) => x.message).join('; ') : '') || e?.code || String(err);
}

/** `options` without its undefined fields, so that they do not override the defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
