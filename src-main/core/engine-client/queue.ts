/**
 * What a request is for, most urgent first: a preview is the face the user is looking at, a background one
 * prepares that face's next looks (the slider's steps), a detection fills the album they opened, an export is a
 * batch they started and left to run.
 */
export type Priority = 'preview' | 'background' | 'detect' | 'export';

export const PRIORITIES: readonly Priority[] = ['preview', 'background', 'detect', 'export'];

export interface Queued {
  readonly priority: Priority;
  readonly coalesceKey: string | undefined;
}

/** The requests waiting for the engine: by priority, first come first served within one. */
export class PriorityQueue<T extends Queued> {
  private readonly lanes: Record<Priority, T[]> = { preview: [], background: [], detect: [], export: [] };

  get size(): number {
    return PRIORITIES.reduce((sum, priority) => sum + this.lanes[priority].length, 0);
  }

  /**
   * Adds `item`; a waiting item with the same coalesceKey leaves, and is returned. The newcomer takes its
   * place when they share a priority: a slider dragged for a while sends a request per move, and each would
   * otherwise go to the back, behind every request made since the first, and that face would wait longest.
   */
  add(item: T): T | undefined {
    const lane = this.lanes[item.priority];
    const replaced = item.coalesceKey === undefined ? undefined : this.find(item.coalesceKey);
    if (replaced && replaced.priority === item.priority) {
      lane[lane.indexOf(replaced)] = item;
      return replaced;
    }
    if (replaced) this.remove(replaced);
    lane.push(item);
    return replaced;
  }

  /** `item`, taken out to run and stopped before its end, first in its lane again: it was the next in line. */
  putBack(item: T): void {
    this.lanes[item.priority].unshift(item);
  }

  /** The most urgent item, taken out of the queue. */
  take(): T | undefined {
    for (const priority of PRIORITIES) {
      const item = this.lanes[priority].shift();
      if (item) return item;
    }
    return undefined;
  }

  /** Whether `item` was waiting (and is not any more). */
  remove(item: T): boolean {
    const lane = this.lanes[item.priority];
    const index = lane.indexOf(item);
    if (index < 0) return false;
    lane.splice(index, 1);
    return true;
  }

  /** Every waiting item, taken out, most urgent first. */
  drain(): T[] {
    return PRIORITIES.flatMap((priority) => this.lanes[priority].splice(0));
  }

  private find(coalesceKey: string): T | undefined {
    for (const priority of PRIORITIES) {
      const item = this.lanes[priority].find((queued) => queued.coalesceKey === coalesceKey);
      if (item) return item;
    }
    return undefined;
  }
}
