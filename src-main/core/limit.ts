/**
 * Runs at most `concurrency` tasks at once; the others wait their turn, first come first served. For work that
 * takes a thread of libuv's pool (4 threads by default, shared by every fs call and every sharp pipeline of the
 * process): a folder of 10,000 photos or a grid of 1,000 thumbnails must not take them all at once.
 */
export function createLimiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    // A waiter is handed the slot of the task that ended (`running` is not decremented for it).
    try {
      return await task();
    } finally {
      if (waiting.length > 0) waiting.shift()!();
      else running--;
    }
  };
}
