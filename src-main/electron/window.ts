import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';
import { APP_ORIGIN, isAppUrl } from './channels.ts';
import {
  MIN_SIZE,
  visibleBounds,
  writeWindowState,
  type Rect,
  type ScreenLike,
  type WindowState,
} from './window-state.ts';

/*
 * The window and its defences (ARCHITECTURE.md rule 5, and Electron's security checklist): the page is ours
 * (app://heirloom), runs sandboxed without Node, reaches the main process only through the preload's two
 * functions, and can neither leave the app nor bring anything remote into it.
 */

export const SECURE_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  // Chromium's spellchecker fetches its dictionaries from Google's servers: remote content, and not needed.
  spellcheck: false,
} as const satisfies WebPreferences;

/** A navigation as Electron reports it (its event carries the target URL). */
export interface NavigationEvent {
  readonly url: string;
  preventDefault(): void;
}

/** Electron's WebContents, as far as the defences use it. */
export interface GuardedContents {
  setWindowOpenHandler(handler: () => { action: 'deny' }): void;
  on(event: 'will-frame-navigate', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEvent) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
}

/** No new windows, no navigation away from our page in any frame (redirects included), no <webview>. */
export function guardContents(contents: GuardedContents): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const stayHome = (event: NavigationEvent): void => {
    if (!isAppUrl(event.url)) event.preventDefault();
  };
  contents.on('will-frame-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Electron's Session, as far as the defences use it. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (contents: unknown, permission: string, callback: (granted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  readonly webRequest: {
    onBeforeRequest(
      listener: (
        details: { readonly url: string },
        callback: (response: { cancel: boolean }) => void,
      ) => void,
    ): void;
  };
}

/** The schemes a page of ours may load: itself, inline data, its own blobs, and the developer tools. */
const LOCAL_SCHEMES: ReadonlySet<string> = new Set(['app:', 'data:', 'blob:', 'devtools:']);

function isLocal(url: string): boolean {
  return LOCAL_SCHEMES.has(url.slice(0, url.indexOf(':') + 1).toLowerCase());
}

/**
 * Every permission (camera, notifications, clipboard, …) refused, asked or merely checked; every request to
 * anything but our own schemes cancelled, so no remote content loads whatever the page holds.
 */
export function guardSession(session: GuardedSession): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isLocal(details.url) }));
}

/** Electron's BrowserWindow, as far as the app uses it. */
export interface MainWindow {
  readonly webContents: { readonly id: number; loadURL(url: string): Promise<void> };
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  show(): void;
  maximize(): void;
  isMaximized(): boolean;
  getNormalBounds(): Rect;
}

export type WindowConstructor<W extends MainWindow> = new (options: BrowserWindowConstructorOptions) => W;

export interface MainWindowOptions {
  /** The built preload (CommonJS). */
  readonly preload: string;
  readonly state: WindowState;
  /** Where the state is saved when the window closes. */
  readonly stateFile: string;
  readonly screen: ScreenLike;
  /** Developer tools only outside a packaged app. */
  readonly devTools: boolean;
  readonly log?: (line: string) => void;
}

/** The app's window, where it was last time, showing app://heirloom/ once it has painted. */
export function createMainWindow<W extends MainWindow>(
  BrowserWindow: WindowConstructor<W>,
  options: MainWindowOptions,
): W {
  const window = new BrowserWindow({
    ...visibleBounds(options.state, options.screen),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Heirloom',
    // Shown once painted, on the UI's neutral dark grey (UI.md "Look"), so it never flashes white.
    show: false,
    backgroundColor: '#1e1e1e',
    webPreferences: { ...SECURE_WEB_PREFERENCES, devTools: options.devTools, preload: options.preload },
  });
  window.once('ready-to-show', () => {
    // Not before: maximize() shows a hidden window, which would flash before the page has painted.
    if (options.state.maximized) window.maximize();
    window.show();
  });
  window.on('close', () =>
    writeWindowState(options.stateFile, { ...window.getNormalBounds(), maximized: window.isMaximized() }),
  );
  const log = options.log ?? console.error;
  window.webContents
    .loadURL(`${APP_ORIGIN}/`)
    .catch((error: unknown) => log(`heirloom: the UI did not load: ${String(error)}`));
  return window;
}
