// What thunderbird-run.ts reports to the suite: a JSON file, named on stdout as `RESULT <path>`.
import type { Probe, ProbeResult } from './probes.js';
import type { RecordedRequest } from './service.js';

export const RESULT_MARKER = 'RESULT ';

export type Phase = 'untrusted-ca' | 'trusted' | 'no-autodiscover-tls' | 'no-customer-tls';

export interface ProbeRecord {
  phase: Phase;
  email: string;
  probe: Probe;
  result: ProbeResult;
  /** What our service received while this probe ran (with `batched`: while its batch ran). */
  requests: RecordedRequest[];
  /** Run side by side with other probes of its phase. */
  batched?: boolean;
  ms: number;
}

export interface RunResult {
  app: { name: string; version: string; pid: number };
  ports: { http: number; https: number };
  prefs: Record<string, unknown>;
  probes: ProbeRecord[];
  /** What we spawned (strace), Thunderbird's main process and every process descended from them. */
  pids: number[];
  shutdown: { quitViaMarionette: boolean; killed: number[]; leftover: number[] };
  serviceErrors: Array<Record<string, unknown>>;
  straceLog: string;
  timings: Record<string, number>;
}
