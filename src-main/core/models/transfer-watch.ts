import type { ClientRequest } from 'node:http';

/* The two clocks of a download: the stall timer that ends a silent transfer, and the progress meter. */

export interface DownloadProgress {
  /** Bytes in the partial file so far, resumed ones included. */
  readonly received: number;
  /** The whole file's size, when the server or the manifest says it. */
  readonly total: number | null;
  /** Over the last few seconds, counting only bytes that came over the network in this call. */
  readonly bytesPerSecond: number;
  readonly etaSeconds: number | null;
}

const PROGRESS_INTERVAL_MS = 100;
const RATE_WINDOW_MS = 5000;

/**
 * Destroys the request in flight when no byte came for `stallMs` (after calling `onStall`), or when the signal
 * aborts; the error that follows is read through those, whatever the socket reports.
 */
export class Watchdog {
  private request: ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stallMs: number,
    private readonly signal: AbortSignal | undefined,
    private readonly onStall: () => void,
  ) {
    signal?.addEventListener('abort', this.abort);
  }

  private readonly abort = (): void => {
    this.request?.destroy(new Error('cancelled'));
  };

  watch(request: ClientRequest): void {
    this.request = request;
    this.kick();
    if (this.signal?.aborted) this.abort();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.onStall();
      this.request?.destroy(new Error(`no data for ${this.stallMs} ms`));
    }, this.stallMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.abort);
    this.request?.destroy();
  }
}

/**
 * Progress at most every 100 ms, plus a trailing report of the last count (so a stalled download shows
 * what it really has) and a final one at completion. The rate is over the last 5 s of reports.
 */
export class ProgressMeter {
  private lastEmit = -Infinity;
  private latest: number;
  private trailing: NodeJS.Timeout | undefined;
  private readonly samples: { t: number; received: number }[];

  constructor(
    private readonly onProgress: ((progress: DownloadProgress) => void) | undefined,
    private readonly total: number | null,
    start: number,
  ) {
    this.latest = start;
    this.samples = [{ t: performance.now(), received: start }];
  }

  update(received: number): void {
    if (!this.onProgress) return;
    this.latest = received;
    const wait = this.lastEmit + PROGRESS_INTERVAL_MS - performance.now();
    if (wait <= 0) this.emit();
    else this.trailing ??= setTimeout(() => this.emit(), wait);
  }

  finish(received: number): void {
    this.latest = received;
    if (this.onProgress) this.emit();
  }

  stop(): void {
    clearTimeout(this.trailing);
    this.trailing = undefined;
  }

  private emit(): void {
    this.stop();
    const now = performance.now();
    this.lastEmit = now;
    this.samples.push({ t: now, received: this.latest });
    // Keep one sample at or before the window's start, as the rate's base.
    while (this.samples.length > 2 && now - (this.samples[1]?.t ?? now) >= RATE_WINDOW_MS)
      this.samples.shift();
    const base = this.samples[0] ?? { t: now, received: this.latest };
    const seconds = (now - base.t) / 1000;
    const bytesPerSecond = seconds > 0 ? (this.latest - base.received) / seconds : 0;
    const left = this.total === null ? null : Math.max(0, this.total - this.latest);
    const etaSeconds =
      left === null ? null : left === 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null;
    this.onProgress?.({ received: this.latest, total: this.total, bytesPerSecond, etaSeconds });
  }
}
