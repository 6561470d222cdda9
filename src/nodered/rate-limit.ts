/**
 * At most `max` uses per key within a sliding window. Keys are few in normal use (one per editor
 * user and node), but a caller inventing keys must not grow the table without bound: past
 * `maxKeys`, the key used longest ago is forgotten.
 */
export class SlidingWindowLimit {
  private readonly uses = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly maxKeys = 1000,
  ) {}

  /** 0 when `key` may be used now, else the ms until it may. Does not record a use. */
  waitMs(key: string, now = Date.now()): number {
    const recent = this.recent(key, now);
    if (recent.length < this.max) return 0;
    return Math.max(1, recent[recent.length - this.max]! + this.windowMs - now);
  }

  /** Record a use of `key` now. */
  record(key: string, now = Date.now()): void {
    const recent = this.recent(key, now);
    recent.push(now);
    // Most recently used last: the first key in the map is the one to forget.
    this.uses.delete(key);
    this.uses.set(key, recent.slice(-this.max));
    if (this.uses.size > this.maxKeys) this.uses.delete(this.uses.keys().next().value as string);
  }

  private recent(key: string, now: number): number[] {
    return (this.uses.get(key) ?? []).filter((at) => now - at < this.windowMs);
  }
}
