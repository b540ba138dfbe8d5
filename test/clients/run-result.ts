// What a client suite's runner (thunderbird-run.ts, deltachat-run.ts) reports: a JSON file, named on stdout as `RESULT <path>`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Probe, ProbeResult } from './probes.js';
import type { RecordedRequest } from './service.js';

export const RESULT_MARKER = 'RESULT ';

/**
 * A runner's report: `result` as WORKDIR/result.json, named on stdout (large: a file, not a
 * pipe that process.exit could cut short). runner.ts reads it back.
 */
export function writeRunResult(workDir: string, result: unknown): void {
  const resultFile = join(workDir, 'result.json');
  writeFileSync(resultFile, JSON.stringify(result));
  process.stdout.write(`${RESULT_MARKER}${resultFile}\n`);
}

/** Ends a runner process when `run` settles: 0, or 1 with the error on stderr under `name`. */
export function exitWhenDone(name: string, run: Promise<void>): void {
  run.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

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
