// What the HTTP layer is given: the pieces of the pipeline, already built.
import type { Config } from '../config/config.js';
import type { Dialects } from '../dialects/index.js';
import type { Answer } from '../dialects/answer.js';
import type { DirectoryAdmin, DirectoryReader } from '../directory/directory.js';
import type { AnswerCache } from '../pipeline/answer-cache.js';
import type { ProviderProfile } from '../policy/provider-profile.js';
import type { Metrics } from './plugins/metrics.js';

/** Whether this instance takes traffic: false once shutdown has begun (/readyz says 503). */
export interface Readiness {
  accepting: boolean;
}

export interface AppContext {
  config: Config;
  directory: DirectoryReader;
  /**
   * The backend itself, for the admin API's writes (accounts/open.ts ServingDirectory's
   * `directory`): its change feed tells every instance's cache. Never read answers through it.
   */
  directoryAdmin: DirectoryAdmin;
  profile: ProviderProfile;
  dialects: Dialects;
  /** Keys log address hashes (config/secret.ts). */
  secret: string;
  metrics: Metrics;
  /** The log line's address hash (plugins/access-log.ts), keyed by `secret`. */
  logHash: (address: string) => string;
  /** Finished answers (pipeline/answer-cache.ts). */
  answers: AnswerCache<Answer>;
  readiness: Readiness;
}
