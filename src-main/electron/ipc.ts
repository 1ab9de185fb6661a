import { toApiError, type EventMessage } from '../contract/index.ts';
import { routeName } from '../contract/validate.ts';
import type { Core } from '../core/app.ts';
import type { Reply } from '../contract/index.ts';
import { EVENT_CHANNEL, INVOKE_CHANNEL, isAppUrl } from './channels.ts';

/*
 * The contract over Electron IPC: one channel, so every route of the contract's table is reachable by name and
 * nothing else is (no hand list to forget a route or add one the contract lacks). The core checks each input
 * against its route's schema (parseInput, in dispatch) before a handler sees it.
 */

/** The part of a frame the sender check reads (Electron's WebFrameMain). */
export interface SenderFrame {
  readonly url: string;
  readonly parent: SenderFrame | null;
}

/** The part of an invoke event the handler reads (Electron's IpcMainInvokeEvent). */
export interface InvokeEvent {
  readonly sender: { readonly id: number };
  readonly senderFrame: SenderFrame | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, request: unknown) => Promise<Reply>): void;
  removeHandler(channel: string): void;
}

/** Where events go: the window's web contents (Electron's WebContents). */
export interface EventReceiver {
  readonly id: number;
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, message: EventMessage): void;
}

/**
 * Whether a call comes from our page: the main frame (a subframe could hold anything) of our window's own
 * web contents, showing an app:// page. Read at each call, since the window may have been replaced.
 */
export function trustedSender(
  contents: () => { readonly id: number } | undefined,
): (event: InvokeEvent) => boolean {
  return (event) => {
    const frame = event.senderFrame;
    return (
      frame !== null && frame.parent === null && event.sender.id === contents()?.id && isAppUrl(frame.url)
    );
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Answers `heirloom:invoke` ({route, input}) with a Reply, never a throw: every failure, a malformed call
 * included, is `{code, message}` from the contract's set. A call from anywhere but our page is rejected
 * before anything of the core runs, with no code: the contract's codes answer our page, and a foreign frame
 * is owed no answer (Electron logs the rejection in the main process). Returns the function that unwires it.
 */
export function wireIpc(
  ipcMain: IpcMainLike,
  core: Pick<Core, 'dispatch'>,
  isTrusted: (event: InvokeEvent) => boolean,
  log: (line: string) => void = console.error,
): () => void {
  ipcMain.handle(INVOKE_CHANNEL, async (event, request): Promise<Reply> => {
    if (!isTrusted(event)) throw new Error('refused: not a Heirloom page');
    try {
      if (!isRecord(request) || typeof request.route !== 'string') {
        return { ok: false, error: { code: 'INVALID_INPUT', message: 'a call is {route, input}' } };
      }
      return { ok: true, value: await core.dispatch(routeName(request.route), request.input) };
    } catch (error) {
      const apiError = toApiError(error);
      // A bug is worth a line in the log; the user's mistakes and a missing photo are not.
      if (apiError.code === 'INTERNAL') log(`heirloom ipc: ${apiError.message}`);
      return { ok: false, error: apiError };
    }
  });
  return () => ipcMain.removeHandler(INVOKE_CHANNEL);
}

/**
 * Sends every event of the core to our window, and only while it shows our page (navigation away is denied,
 * but a page that is not ours must never receive them). Returns the function that stops it.
 */
export function forwardEvents(
  core: Pick<Core, 'subscribe'>,
  contents: () => EventReceiver | undefined,
): () => void {
  return core.subscribe((message) => {
    const target = contents();
    if (target && !target.isDestroyed() && isAppUrl(target.getURL())) target.send(EVENT_CHANNEL, message);
  });
}
