// A progress line for long commands ("read 120,000 accounts"), shown only where a person
// watches (CliIo.progress: stderr is a terminal), at most once per interval, and cleared
// at the end so that it never mixes with the command's own output.
import type { CliIo } from './context.js';

export interface Progress {
  /** `count` things done so far. */
  update(count: number): void;
  /** Clears the line, when one was shown. */
  done(): void;
}

/** "read N accounts" (`noun` = 'account') on `io`'s progress line: at the first update, then at most every `intervalMs`. */
export function readProgress(io: Pick<CliIo, 'progress'>, noun: string, intervalMs = 1000, now: () => number = Date.now): Progress {
  const show = io.progress;
  if (!show) return { update: () => undefined, done: () => undefined };
  let last = -Infinity;
  let shown = false;
  return {
    update(count) {
      const time = now();
      if (time - last < intervalMs) return;
      last = time;
      shown = true;
      show(`read ${count.toLocaleString('en-US')} ${count === 1 ? noun : `${noun}s`}`);
    },
    done() {
      if (shown) show('');
    },
  };
}

/** `items`, telling `progress` how many have passed. */
export async function* counted<T>(items: AsyncIterable<T>, progress: Progress): AsyncGenerator<T> {
  let count = 0;
  for await (const item of items) {
    progress.update(++count);
    yield item;
  }
}
