import { SvelteSet } from 'svelte/reactivity';
import type { Box, DamageStroke, Face, FaceBlend, FaceTask } from '../../../../src-main/contract/index.ts';
import { call, explain } from '../api.ts';
import { notify } from '../state.svelte.ts';
import { fidelityKey, snapFidelity } from './blend.ts';
import { Latest } from './latest.ts';
import { PreparedRenders, type Entry } from './prepared.ts';
import { faceError, loadImage, superseded } from './renders.ts';
import { hasFidelity } from './tasks.ts';

/*
 * The faces of the photo open in the editor: the list (by number), the selection, each slider's w, and the
 * renders of each face (its exact render, and the prepared steps a drag blends between, lib/editor/prepared.ts).
 * Nothing here waits for the engine: every request runs on its own, and each answer checks it still applies
 * (this face, the newest request, the editor still open) before it changes what the screen shows.
 */

/** A slider moved by keys and left alone this long has come to rest: save its w and render it exactly. */
const REST_MS = 250;
/** In restTimers for a slider the pointer holds: moving, with no timer running. */
const DRAGGING = undefined;
/**
 * A face selected and kept this long is rendered exactly. The arrow keys walk across the boxes selecting each
 * face in passing: only the one the user stops on should cost the engine a render.
 */
const SETTLE_MS = 150;

/** One thing saved about a face at a time (face.update): each is saved, and written back, on its own. */
type FaceChange =
  | { enabled: boolean }
  | { fidelity: number }
  | { blend: FaceBlend }
  | { task: FaceTask }
  | { damage: readonly DamageStroke[] };
type Field = 'enabled' | 'fidelity' | 'blend' | 'task' | 'damage';

export interface FacesDeps {
  readonly photoId: number;
  /** Whether the engine can restore the photo's faces now (the photo is usable, the models are there). */
  canRender(): boolean;
  /** What a failed render says about the whole photo: a missing model, an original moved or changed. */
  trouble(error: unknown): void;
  /** A face's switch or w was saved, or a face came or went: the restored photo is out of date. */
  changed(): void;
}

export class EditorFaces {
  /** The photo's faces, sorted by number (numbers may have gaps: a deleted face keeps its number). */
  list = $state<Face[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  /** Where the user has moved each face's slider (saved or not yet). */
  live = $state<Record<number, number>>({});
  /** Faces whose exact render is on its way. */
  readonly rendering = new SvelteSet<number>();
  /** Why a face's render failed, by face id. */
  errors = $state<Record<number, string>>({});
  /** Bumped when a face render arrives (the renders themselves are kept outside Svelte's state). */
  version = $state(0);
  /** A box being added (the core looks for the face's points in it). */
  adding = $state<Box | null>(null);

  readonly selected = $derived(this.list.find((f) => f.id === this.selectedId) ?? null);

  private stopped = false;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly latest = new Latest<string>();
  // Timers and bookkeeping, not something the screen shows: plain Maps on purpose.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly restTimers = new Map<number, ReturnType<typeof setTimeout> | typeof DRAGGING>();
  /** The w of each face's newest exact render asked for (fidelityKey). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly exactW = new Map<number, number>();
  private readonly prepared: PreparedRenders<HTMLImageElement>;

  constructor(private readonly deps: FacesDeps) {
    this.prepared = new PreparedRenders<HTMLImageElement>({
      fetch: ({ faceId, w }) =>
        call('face.preview', { faceId, ...this.fidelityOf(faceId, w), background: true }),
      load: loadImage,
      changed: () => this.version++,
      failed: (task, error) => {
        if (this.stopped) return true;
        // A missing model pauses the background work through canRender (the editor's banner), not for good:
        // "Try again" after installing it goes on.
        this.deps.trouble(error);
        if (!this.errors[task.faceId]) this.errors[task.faceId] = faceError(error);
        return false;
      },
      superseded,
    });
  }

  /**
   * The w a preview asks for: none for a face colorized or repaired (the core runs those at their model's own w;
   * the renders are still kept by the face's saved w, which does not change meanwhile).
   */
  private fidelityOf(faceId: number, w: number): { fidelity?: number } {
    const face = this.list.find((f) => f.id === faceId);
    return face && !hasFidelity(face) ? {} : { fidelity: w };
  }

  /** A face's slider value now: where the user moved it, else its saved w. */
  wOf(face: Face): number {
    return this.live[face.id] ?? face.fidelity;
  }

  /**
   * The renders of a face as they are now; `version` is read so the caller runs again when one arrives. A new
   * map each time: a derived value that stays the same object would not tell its readers.
   */
  entriesOf(faceId: number): ReadonlyMap<number, Entry<HTMLImageElement>> {
    void this.version;
    // A snapshot to read, never changed: nothing to make reactive.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    return new Map(this.prepared.entries(faceId));
  }

  /** The face's "before" (the crop of the original), once a render told where it is; `version` as entriesOf. */
  beforeOf(faceId: number): string | null {
    void this.version;
    return this.prepared.original(faceId);
  }

  /** Whether a face is still being worked on (rendered, or its slider moving): the whole photo waits. */
  get busy(): boolean {
    return this.rendering.size > 0 || this.restTimers.size > 0 || this.settleTimer !== undefined;
  }

  async load(): Promise<void> {
    const n = this.latest.take('faces');
    try {
      const list = await call('face.list', { photoId: this.deps.photoId });
      if (this.stopped || !this.latest.is('faces', n)) return;
      this.set(list);
    } catch (error) {
      if (this.stopped || !this.latest.is('faces', n)) return;
      notify('error', `The faces of this photo could not be loaded: ${explain(error)}`);
    }
  }

  private set(list: Face[]): void {
    this.list = [...list].sort((a, b) => a.number - b.number);
    this.loaded = true;
    this.prepared.keepOnly(this.list.map((f) => f.id));
    // A slider at rest takes the saved w (a re-detection may have changed it); one being moved keeps the user's.
    const next: Record<number, number> = {};
    for (const f of this.list) {
      const w = this.live[f.id];
      if (this.restTimers.has(f.id) && w !== undefined) next[f.id] = w;
    }
    this.live = next;
    if (!this.list.some((f) => f.id === this.selectedId)) this.select(this.list[0]?.id ?? null);
  }

  /** What to prepare in the background: the selected face's steps, then each card's own render. Run in an effect. */
  prepare(): void {
    if (!this.deps.canRender()) {
      this.prepared.want({ selected: null, cards: [] });
      return;
    }
    const sel = this.selected;
    this.prepared.want({
      // The slider's steps only where there is a slider: colorize and repair have one render each.
      selected: sel && sel.enabled && hasFidelity(sel) ? { faceId: sel.id, w: this.wOf(sel) } : null,
      cards: this.list.map((f) => ({ faceId: f.id, w: f.fidelity })),
    });
  }

  select(faceId: number | null): void {
    this.selectedId = faceId;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      const face = this.selected;
      if (face && !this.stopped) this.ensureExact(face);
    }, SETTLE_MS);
  }

  /** The face's exact render at its w, unless it is there or on its way. */
  private ensureExact(face: Face): void {
    if (!this.deps.canRender() || !face.enabled) return;
    const w = this.wOf(face);
    if (!this.prepared.has({ faceId: face.id, w }) && !this.rendering.has(face.id)) {
      void this.renderExact(face.id, w);
    }
  }

  /**
   * The face at w, asked for in front of the background work; the newest ask wins. `again`: the face changed
   * (its blend, task or damage), so one on its way at the same w is out of date and is asked for anew.
   */
  private async renderExact(faceId: number, w: number, again = false): Promise<void> {
    const key = `exact:${faceId}`;
    // The same render already on its way keeps its place in the engine's queue.
    if (!again && this.rendering.has(faceId) && this.exactW.get(faceId) === fidelityKey(w)) return;
    this.exactW.set(faceId, fidelityKey(w));
    const n = this.latest.take(key);
    this.rendering.add(faceId);
    this.prepared.hold(faceId);
    delete this.errors[faceId];
    try {
      const preview = await call('face.preview', { faceId, ...this.fidelityOf(faceId, w) });
      const image = await loadImage(preview.url);
      if (this.stopped || !this.latest.is(key, n)) return;
      this.prepared.put(faceId, { ...preview, fidelity: w, image });
    } catch (error) {
      if (this.stopped || !this.latest.is(key, n) || superseded(error)) return;
      this.deps.trouble(error);
      this.errors[faceId] = faceError(error);
    } finally {
      this.prepared.release(faceId);
      if (!this.stopped && this.latest.is(key, n)) this.rendering.delete(faceId);
    }
  }

  /**
   * The slider moves (drag, keys, [ ]): the card blends at once; the exact render waits for a rest: the drag's
   * release, or a short pause of the keys. A drag held still is not a rest: nothing is asked for until it lets
   * go, so a drag never costs a request once the steps are prepared.
   */
  move(faceId: number, w: number, held = false): void {
    this.live[faceId] = snapFidelity(w);
    this.prepared.pause(held);
    clearTimeout(this.restTimers.get(faceId));
    this.restTimers.set(faceId, held ? DRAGGING : setTimeout(() => this.rest(faceId), REST_MS));
  }

  /** The drag let go. */
  release(faceId: number, w: number): void {
    this.live[faceId] = snapFidelity(w);
    this.prepared.pause(false);
    this.rest(faceId);
  }

  /** The slider rests: save the face's w, and render it exactly unless that render is already here. */
  private rest(faceId: number): void {
    clearTimeout(this.restTimers.get(faceId));
    this.restTimers.delete(faceId);
    const face = this.list.find((f) => f.id === faceId);
    if (!face) return;
    const w = this.wOf(face);
    if (w !== face.fidelity) void this.save(faceId, { fidelity: w });
    if (face.enabled && this.deps.canRender() && !this.prepared.has({ faceId, w })) {
      void this.renderExact(faceId, w);
    }
  }

  /**
   * Saves one thing about a face; only the newest save of each writes back, and the photo is rendered again.
   * 'stale': saved, but a newer save of the same thing is on its way (that one goes on from here).
   */
  private async save(faceId: number, change: FaceChange): Promise<'saved' | 'stale' | 'failed'> {
    const field = Object.keys(change)[0] as Field;
    const key = `save:${faceId}:${field}`;
    const n = this.latest.take(key);
    try {
      // The route takes plain arrays: the damage is copied out of the Face's read-only ones.
      const input = 'damage' in change ? { damage: change.damage.map(copyStroke) } : change;
      const updated = await call('face.update', { faceId, ...input });
      if (this.stopped || !this.latest.is(key, n)) return 'stale';
      // Only the field this save was about: another save of the other field may be newer.
      this.list = this.list.map((f) => (f.id === faceId ? { ...f, [field]: updated[field] } : f));
      this.deps.changed();
      return 'saved';
    } catch (error) {
      if (this.stopped || !this.latest.is(key, n)) return 'stale';
      const face = this.list.find((f) => f.id === faceId);
      notify('error', `Face ${face?.number ?? ''} could not be saved: ${explain(error)}`);
      return 'failed';
    }
  }

  async toggle(faceId: number, enabled: boolean): Promise<void> {
    this.list = this.list.map((f) => (f.id === faceId ? { ...f, enabled } : f));
    const face = this.list.find((f) => f.id === faceId);
    if (face && enabled && faceId === this.selectedId) this.ensureExact(face);
    if ((await this.save(faceId, { enabled })) === 'failed' && !this.stopped) {
      this.list = this.list.map((f) => (f.id === faceId ? { ...f, enabled: !enabled } : f));
    }
  }

  /** How the face is laid back into the photo. */
  setBlend(faceId: number, blend: FaceBlend): Promise<void> {
    return this.remake(faceId, { blend });
  }

  /** What is done to the face: restore, colorize, or repair its painted damage. */
  setTask(faceId: number, task: FaceTask): Promise<void> {
    return this.remake(faceId, { task });
  }

  /** The damage painted on the face (a stroke added or taken back, or all cleared). */
  setDamage(faceId: number, damage: readonly DamageStroke[]): Promise<void> {
    return this.remake(faceId, { damage });
  }

  /**
   * A change to what the face's renders show (its blend, task or damage): shown at once, saved, and then its
   * renders so far are dropped and made again (the selected one first). Taken back if it could not be saved.
   */
  private async remake(
    faceId: number,
    change: { blend: FaceBlend } | { task: FaceTask } | { damage: readonly DamageStroke[] },
  ) {
    const face = this.list.find((f) => f.id === faceId);
    if (!face) return;
    const [field, value] = Object.entries(change)[0] as [Field, unknown];
    if (field !== 'damage' && face[field] === value) return;
    const before = face[field];
    this.list = this.list.map((f) => (f.id === faceId ? { ...f, ...change } : f));
    const saved = await this.save(faceId, change);
    if (this.stopped) return;
    if (saved === 'saved') {
      this.prepared.forget(faceId);
      const now = this.list.find((f) => f.id === faceId);
      if (now?.enabled && faceId === this.selectedId && this.deps.canRender()) {
        void this.renderExact(faceId, this.wOf(now), true);
      }
    } else if (saved === 'failed') {
      this.list = this.list.map((f) => (f.id === faceId ? { ...f, [field]: before } : f));
    }
  }

  /**
   * Deletes a face: it leaves the screen at once, and a neighbour is selected in its place. Returns that
   * neighbour's id (null when no face is left), for the focus to follow.
   */
  remove(faceId: number): number | null {
    const face = this.list.find((f) => f.id === faceId);
    if (!face) return this.selectedId;
    const index = this.list.indexOf(face);
    this.list = this.list.filter((f) => f.id !== faceId);
    const neighbour = (this.list[index] ?? this.list[index - 1])?.id ?? null;
    if (this.selectedId === faceId) this.select(neighbour);
    this.latest.drop(`exact:${faceId}`);
    this.rendering.delete(faceId);
    void this.forget(face);
    return neighbour;
  }

  private async forget(face: Face): Promise<void> {
    try {
      await call('face.delete', { faceId: face.id });
      if (this.stopped) return;
      notify('info', `Face ${face.number} deleted. Draw a box around it to bring it back.`);
    } catch (error) {
      if (!this.stopped) notify('error', `Face ${face.number} could not be deleted: ${explain(error)}`);
    }
    if (this.stopped) return;
    // The others keep their numbers; the list is read again in case the core saw it otherwise.
    await this.load();
    this.deps.changed();
  }

  /** A box drawn around a missed face: the core finds its points, and it becomes the selected face. */
  async add(box: Box): Promise<void> {
    this.adding = box;
    try {
      const face = await call('face.add', { photoId: this.deps.photoId, box });
      if (this.stopped) return;
      await this.load();
      this.select(face.id);
      this.deps.changed();
    } catch (error) {
      if (this.stopped) return;
      this.deps.trouble(error);
      notify('error', `The face could not be added: ${explain(error)}`);
    } finally {
      if (!this.stopped) this.adding = null;
    }
  }

  /** "Try again" on a face's card: everything given up on is asked for again, this face first. */
  retry(faceId: number): void {
    delete this.errors[faceId];
    this.prepared.retry();
    const face = this.list.find((f) => f.id === faceId);
    if (face) void this.renderExact(faceId, this.wOf(face));
  }

  /** The editor closed: nothing more is asked for, and late answers change nothing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.settleTimer);
    this.prepared.stop();
    for (const timer of this.restTimers.values()) clearTimeout(timer);
  }
}

function copyStroke(stroke: DamageStroke): { radius: number; points: [number, number][] } {
  return { radius: stroke.radius, points: stroke.points.map(([x, y]) => [x, y]) };
}
