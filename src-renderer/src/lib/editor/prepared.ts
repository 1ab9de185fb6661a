import { fidelityKey, prefetchOrder, STEPS } from './blend.ts';

/*
 * The renders kept for the faces of the open photo, and the background work that prepares them, one request
 * at a time: first the selected face's STEPS (nearest its w first: what a drag blends between), then each
 * card's own render (its small before/after). Nothing is cancelled (after the first, a step costs only the
 * decoder half: the engine keeps the encoder's part), but everything is re-ordered when the selection moves.
 *
 * A face whose exact render the user asked for is "held": no background request goes for it until that
 * render is back, so a prepared step never stands in the way of (or replaces) the one the user waits for.
 *
 * Plain TypeScript over injected I/O (a fetch and an image loader), so tests/renderer/prepared.test.ts can
 * drive it with fakes.
 */

/** One render of a face: where it is (as the contract's Preview says) and the decoded image. */
export interface Entry<I> {
  readonly url: string;
  /** The same crop of the original: the card's "before". */
  readonly originalUrl: string;
  readonly fidelity: number;
  readonly image: I;
}

export interface Task {
  readonly faceId: number;
  readonly w: number;
}

/** What should be prepared: the selected face and its slider's w, and every card's face at its saved w. */
export interface Wanted {
  readonly selected: Task | null;
  readonly cards: readonly Task[];
}

/** A (face, w) that may be asked for now: not there yet, not held, and not given up on. */
export type Askable = (task: Task) => boolean;

/** The next render to prepare, or null when all that is wanted is there (or waits). */
export function nextTask(wanted: Wanted, askable: Askable, steps: readonly number[] = STEPS): Task | null {
  if (wanted.selected) {
    const { faceId, w } = wanted.selected;
    for (const step of prefetchOrder(w, steps)) {
      if (askable({ faceId, w: step })) return { faceId, w: step };
    }
  }
  return wanted.cards.find(askable) ?? null;
}

export interface PreparedDeps<I> {
  /** Asks the core for a background render of the face at w. */
  fetch(task: Task): Promise<{ url: string; originalUrl: string; fidelity: number }>;
  /** Loads and decodes the image, so drawing it later costs nothing. */
  load(url: string): Promise<I>;
  /** A render of this face arrived (the UI redraws). */
  changed(faceId: number): void;
  /** A request failed for another reason than being superseded; return true to stop all background work. */
  failed(task: Task, error: unknown): boolean;
  /** Whether an error only says the request was superseded by a newer one (worth asking again later). */
  superseded(error: unknown): boolean;
}

/** How often a superseded step is asked again before it is left alone (until the face is chosen again). */
const MAX_ATTEMPTS = 4;

export class PreparedRenders<I> {
  private readonly store = new Map<number, Map<number, Entry<I>>>();
  private wanted: Wanted = { selected: null, cards: [] };
  private readonly held = new Map<number, number>();
  private readonly attempts = new Map<string, number>();
  /** Each face's "before" (the crop of the original): the same whatever its renders show, so kept through `forget`. */
  private readonly originals = new Map<number, string>();
  /** How often each face's renders were forgotten: a render asked for before that shows what was. */
  private readonly forgotten = new Map<number, number>();
  private running = false;
  private stopped = false;
  private paused = false;

  constructor(private readonly deps: PreparedDeps<I>) {}

  /** The renders of a face, by fidelityKey(w). */
  entries(faceId: number): ReadonlyMap<number, Entry<I>> {
    return this.store.get(faceId) ?? new Map();
  }

  /** The face's "before", once a render of it came (kept when its renders are forgotten). */
  original(faceId: number): string | null {
    return this.originals.get(faceId) ?? null;
  }

  /** Any render of the face (they all carry the same "before"). */
  any(faceId: number): Entry<I> | undefined {
    return this.store.get(faceId)?.values().next().value;
  }

  has(task: Task): boolean {
    return this.store.get(task.faceId)?.has(fidelityKey(task.w)) ?? false;
  }

  /** Says what is wanted now; background work starts (or is re-ordered) at once. */
  want(wanted: Wanted): void {
    const before = this.wanted.selected?.faceId;
    this.wanted = wanted;
    // A face chosen again gets its given-up steps another chance.
    if (wanted.selected && wanted.selected.faceId !== before) this.forgive(wanted.selected.faceId);
    void this.pump();
  }

  /** An exact render of the face is in flight: nothing in the background for it until `release`. */
  hold(faceId: number): void {
    this.held.set(faceId, (this.held.get(faceId) ?? 0) + 1);
  }

  release(faceId: number): void {
    const n = (this.held.get(faceId) ?? 1) - 1;
    if (n > 0) this.held.set(faceId, n);
    else this.held.delete(faceId);
    void this.pump();
  }

  /** Keeps a render the user asked for too: it is exact at its w, and one more point to blend from. */
  put(faceId: number, entry: Entry<I>): void {
    let renders = this.store.get(faceId);
    if (!renders) this.store.set(faceId, (renders = new Map()));
    renders.set(fidelityKey(entry.fidelity), entry);
    this.originals.set(faceId, entry.originalUrl);
    this.deps.changed(faceId);
  }

  /**
   * While the user drags a slider nothing new starts (the one running finishes): the drag is drawn from what
   * is here, and the engine and the network stay quiet for it.
   */
  pause(paused: boolean): void {
    this.paused = paused;
    if (!paused) void this.pump();
  }

  /** Everything given up on is asked for again (the user pressed "Try again"). */
  retry(): void {
    this.attempts.clear();
    void this.pump();
  }

  /**
   * Drops every render of one face (its blend, task or damage changed: they all show the old one), and any on
   * its way.
   */
  forget(faceId: number): void {
    this.store.delete(faceId);
    this.forgotten.set(faceId, (this.forgotten.get(faceId) ?? 0) + 1);
    for (const key of [...this.attempts.keys()]) if (key.startsWith(`${faceId}:`)) this.attempts.delete(key);
    void this.pump();
  }

  /** Drops what is kept for faces no longer there. */
  keepOnly(faceIds: Iterable<number>): void {
    const keep = new Set(faceIds);
    for (const id of [...this.store.keys()]) if (!keep.has(id)) this.store.delete(id);
    for (const id of [...this.originals.keys()]) if (!keep.has(id)) this.originals.delete(id);
  }

  /** No more background requests (the editor closed); what is in flight is let go. */
  stop(): void {
    this.stopped = true;
  }

  private askable: Askable = (task) =>
    !this.has(task) &&
    !this.held.has(task.faceId) &&
    (this.attempts.get(attemptKey(task)) ?? 0) < MAX_ATTEMPTS;

  private forgive(faceId: number): void {
    for (const key of [...this.attempts.keys()]) {
      if (key.startsWith(`${faceId}:`)) this.attempts.delete(key);
    }
  }

  /** Runs the background requests one after another while there is something to prepare. */
  private async pump(): Promise<void> {
    if (this.running || this.stopped || this.paused) return;
    this.running = true;
    try {
      for (let task = nextTask(this.wanted, this.askable); task && !this.stopped && !this.paused;) {
        await this.prepare(task);
        task = nextTask(this.wanted, this.askable);
      }
    } finally {
      this.running = false;
    }
  }

  private async prepare(task: Task): Promise<void> {
    const key = attemptKey(task);
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
    const generation = this.forgotten.get(task.faceId);
    try {
      const preview = await this.deps.fetch(task);
      const image = await this.deps.load(preview.url);
      if (this.stopped) return;
      // The face changed meanwhile: this render shows it as it was. It is asked for again (not yet there).
      if (this.forgotten.get(task.faceId) !== generation) return;
      this.put(task.faceId, { ...preview, fidelity: task.w, image });
    } catch (error) {
      if (this.stopped || this.deps.superseded(error)) return;
      this.attempts.set(key, MAX_ATTEMPTS);
      if (this.deps.failed(task, error)) this.stopped = true;
    }
  }
}

function attemptKey(task: Task): string {
  return `${task.faceId}:${fidelityKey(task.w)}`;
}
