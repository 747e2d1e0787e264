/**
 * A bounded least-recently-used map: the scoped-client caches keep at most `max` entries, so a stream of distinct
 * scope sets cannot grow a warm Lambda's memory without bound. A Map keeps insertion order, so re-inserting on
 * access and evicting the first key is an LRU in a dozen lines (no dependency needed for that).
 */
export class Lru<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {
    if (!(max >= 1)) throw new RangeError('an LRU needs room for at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key` (now the most recently used), or the one `create` makes, evicting the least recent if full. */
  getOrCreate(key: string, create: () => V): V {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing;
    }
    const value = create();
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
