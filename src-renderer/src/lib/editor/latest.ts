/*
 * "Latest wins" for answers that arrive out of order: each request takes a number, and only the answer to the
 * newest number for its key may change what the screen shows. Older answers are dropped, not cancelled: the
 * core coalesces them already, and a late one must simply not overwrite a newer state.
 */
export class Latest<K = string> {
  private readonly numbers = new Map<K, number>();
  private counter = 0;

  /** A new request for `key`: every earlier one for it is stale from now on. */
  take(key: K): number {
    const n = ++this.counter;
    this.numbers.set(key, n);
    return n;
  }

  /** Whether `n` is still the newest request for `key`. */
  is(key: K, n: number): boolean {
    return this.numbers.get(key) === n;
  }

  /** Makes every request for `key` stale (the thing it was for went away). */
  drop(key: K): void {
    this.numbers.delete(key);
  }
}
