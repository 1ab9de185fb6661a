import { call, explain } from '../api.ts';
import { Latest } from './latest.ts';
import { loadImage, superseded } from './renders.ts';

/*
 * The whole photo with every switched-on face at its own w: the editor's "after". Face changes come in bursts
 * (a drag, a few switches), so it is rendered again after a pause, and the newest render wins.
 */

/** How long after the last face change the whole photo is rendered again. */
const RENDER_DELAY_MS = 600;

export interface RestoredDeps {
  readonly photoId: number;
  /** Whether the engine can restore the photo now (the photo is usable, the models are there). */
  canRender(): boolean;
  /** Whether any face is switched on: with none, the "after" is the original itself. */
  anyEnabled(): boolean;
  /** Whether a face is still being rendered or moved: the face the user looks at comes first. */
  waiting(): boolean;
  /** What a failed render says about the whole photo: a missing model, an original moved or changed. */
  trouble(error: unknown): void;
}

export class RestoredPhoto {
  /** The restored photo, once rendered; the original is shown until then. */
  url = $state<string | null>(null);
  busy = $state(false);
  /** Why the last render failed, in words. */
  error = $state<string | null>(null);

  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly latest = new Latest<'render'>();

  constructor(private readonly deps: RestoredDeps) {}

  /** Renders the photo again once things have been still for `delay` ms. */
  schedule(delay = RENDER_DELAY_MS): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.render(), delay);
  }

  /**
   * Waits for the faces' exact renders: a whole photo takes the engine far longer than a face, and the face
   * the user is looking at comes first.
   */
  private async render(): Promise<void> {
    if (this.deps.waiting()) {
      this.schedule();
      return;
    }
    const n = this.latest.take('render');
    if (!this.deps.canRender() || !this.deps.anyEnabled()) {
      // Nothing restored: the "after" is the original itself.
      this.url = null;
      this.busy = false;
      return;
    }
    this.busy = true;
    this.error = null;
    try {
      const { url } = await call('photo.render', { photoId: this.deps.photoId });
      await loadImage(url);
      if (this.stopped || !this.latest.is('render', n)) return;
      this.url = url;
    } catch (error) {
      if (this.stopped || !this.latest.is('render', n) || superseded(error)) return;
      this.deps.trouble(error);
      this.error = explain(error);
    } finally {
      if (!this.stopped && this.latest.is('render', n)) this.busy = false;
    }
  }

  /** The editor closed. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
