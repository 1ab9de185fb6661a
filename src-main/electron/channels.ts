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
