import type { ApiError } from './errors.ts';
import type { EventMessage } from './events.ts';

/* The two transports' common shape: what the page calls, in the desktop app (IPC) and the browser mode (HTTP). */

/** One call, as the page sends it: a route name and its input, both checked in the main process. */
export interface InvokeRequest {
  readonly route: string;
  readonly input?: unknown;
}

/**
 * The answer to one call, the Node host's `/api` body too. An error travels as a value: Electron passes only
 * the message of a thrown error, so its `code` would be lost.
 */
export type Reply =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: ApiError };

/** What the preload gives the page as `window.heirloom`: nothing else of Electron or Node reaches it. */
export interface HeirloomBridge {
  invoke(route: string, input?: unknown): Promise<Reply>;
  /** Calls `listener` with each event of the core; returns the function that stops it. */
  onEvent(listener: (message: EventMessage) => void): () => void;
  /**
   * Where a file the user dropped on the window lives (Electron's webUtils.getPathForFile; '' for a file that is
   * not on disk). It tells the page only what the user handed it.
   */
  pathForFile(file: File): string;
}
