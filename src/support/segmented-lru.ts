// A size-bounded map that keeps what is asked for again: the directory cache's pools and
// the answer cache share it.
/**
 * An LRU in two segments (Map order is recency, oldest first). New keys enter probation;
 * a key touched there moves to protected, whose overflow falls back to probation. The size
 * bound evicts from probation first, so keys seen once cannot push out keys seen twice.
 */
export class SegmentedLru<V> {
  private readonly probation = new Map<string, V>();
  private readonly kept = new Map<string, V>();
  private readonly keptMax: number;

  constructor(
    private readonly capacity: number,
    private readonly onEvict: (value: V) => void,
  ) {
    // At least one probation slot, so a new key always has room to enter.
    this.keptMax = Math.min(capacity - 1, Math.floor(capacity * 0.8));
  }

  get size(): number {
    return this.probation.size + this.kept.size;
  }

  /** The value, without counting as a use. */
  get(key: string): V | undefined {
    return this.kept.get(key) ?? this.probation.get(key);
  }

  /** Counts a use: a probation key is promoted, a protected one made the most recent. */
  touch(key: string): void {
    const value = this.kept.get(key);
    if (value !== undefined) {
      this.kept.delete(key);
      this.kept.set(key, value);
      return;
    }
    const waiting = this.probation.get(key);
    if (waiting === undefined) return;
    this.probation.delete(key);
    this.kept.set(key, waiting);
    if (this.kept.size > this.keptMax) {
      const [oldKey, oldValue] = this.kept.entries().next().value!;
      this.kept.delete(oldKey);
      this.probation.set(oldKey, oldValue);
    }
  }

  /** Stores `value`; replacing a key's value counts as a use of it. */
  set(key: string, value: V): void {
    if (this.kept.has(key)) this.kept.set(key, value);
    else if (this.probation.has(key)) this.probation.set(key, value);
    else {
      this.probation.set(key, value);
      this.evictOverflow();
      return;
    }
    this.touch(key);
  }

  delete(key: string): boolean {
    return this.kept.delete(key) || this.probation.delete(key);
  }

  clear(): void {
    this.probation.clear();
    this.kept.clear();
  }

  private evictOverflow(): void {
    while (this.size > this.capacity) {
      const segment = this.probation.size > 0 ? this.probation : this.kept;
      const [key, value] = segment.entries().next().value!;
      segment.delete(key);
      this.onEvict(value);
    }
  }
}
