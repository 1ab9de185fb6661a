import type { ApiError, EventMessage } from '../contract/index.ts';

/*
 * What crosses between the page and the main process, and nothing more: one channel for every route, one for
 * every event (ARCHITECTURE.md rule 2). The preload repeats the two names (a sandboxed preload cannot require
 * our modules); tests/electron/preload.test.ts holds them equal.
 */

export const INVOKE_CHANNEL = 'heirloom:invoke';
export const EVENT_CHANNEL = 'heirloom:event';

/** The page's only origin. Its scheme is ours alone, so nothing outside the app can load it. */
export const APP_ORIGIN = 'app://heirloom';

/** Whether `url` is a page of ours: the exact origin and a path, so `app://heirloom.evil/` is not. */
export function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}

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
}
