import path from 'node:path';
import { toApiError } from '../contract/errors.ts';
import { createCore, type Core } from '../core/app.ts';
import { ENGINE_CONFIG_ENV, type EngineConfig } from '../core/engine/protocol.ts';
import { defaultModelPaths } from '../core/paths.ts';
import { APP_ORIGIN } from './channels.ts';
import { pickPaths, type DialogLike } from './dialogs.ts';
import { utilityEngine, type UtilityProcessModule } from './engine.ts';
import { forwardEvents, trustedSender, wireIpc, type EventReceiver, type IpcMainLike } from './ipc.ts';
import { shellLicences, type ShellRuntime } from './licences.ts';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, appProtocolHandler, type ProtocolLike } from './protocol.ts';
import { readWindowState, type ScreenLike } from './window-state.ts';
import {
  createMainWindow,
  guardContents,
  guardSession,
  type GuardedContents,
  type GuardedSession,
  type MainWindow,
  type WindowConstructor,
} from './window.ts';

/** Electron's app, as far as the shell uses it. */
export interface ShellApp {
  readonly isPackaged: boolean;
  enableSandbox(): void;
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<void>;
  getPath(name: 'userData'): string;
  getVersion(): string;
  quit(): void;
  exit(code?: number): void;
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'web-contents-created', listener: (event: unknown, contents: GuardedContents) => void): unknown;
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
}

export interface ShellWindow extends MainWindow {
  readonly webContents: MainWindow['webContents'] & EventReceiver;
  isDestroyed(): boolean;
  isMinimized(): boolean;
  restore(): void;
  focus(): void;
}

/**
 * The parts of the `electron` module the app uses: main.ts passes the real ones, tests their fakes. Generic in
 * the window, so the dialogs are opened on a window of the kind the real (or fake) dialog takes.
 */
export interface ShellElectron<W extends ShellWindow = ShellWindow> {
  readonly app: ShellApp;
  readonly BrowserWindow: WindowConstructor<W>;
  readonly dialog: DialogLike<W>;
  readonly ipcMain: IpcMainLike;
  readonly protocol: ProtocolLike;
  readonly screen: ScreenLike;
  readonly session: { readonly defaultSession: GuardedSession };
  readonly shell: { showItemInFolder(fullPath: string): void };
  readonly utilityProcess: UtilityProcessModule;
}

export interface ShellPaths {
  /** The library, caches and models: the folder the CLI and the Node host use too. */
  readonly dataDir: string;
  readonly preload: string;
  readonly engineEntry: string;
  readonly renderer: string;
}

/** A hung close (an engine that will not die) must not keep a windowless app alive for ever. */
const CLOSE_LIMIT_MS = 10_000;

/** Closes the core, or gives up waiting after `ms`; a failure to close is logged, never a reason to stay. */
async function closeWithin(core: Core, ms: number, log: (line: string) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  const close = core
    .close()
    .catch((error: unknown) => log(`heirloom: closing: ${toApiError(error).message}`));
  await Promise.race([close, limit]);
  clearTimeout(timer);
}

/**
 * Starts the app: what must precede `ready` at once (the scheme's privileges, the sandbox for every renderer,
 * the single-instance lock), then the core, the app:// protocol, IPC and the window. Resolves once the window
 * is made, or the start was given up (a second instance, a library that cannot be opened).
 */
export function startShell<W extends ShellWindow>(
  electron: ShellElectron<W>,
  paths: ShellPaths,
  log = console.error,
  runtime: ShellRuntime = process,
): Promise<void> {
  const { app } = electron;
  electron.protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
  app.enableSandbox();
  if (!app.requestSingleInstanceLock()) {
    // Another Heirloom holds this library: it is shown instead (its 'second-instance' below).
    app.quit();
    return Promise.resolve();
  }
  let core: Core | undefined;
  let window: W | undefined;
  const live = (): W | undefined => (window && !window.isDestroyed() ? window : undefined);
  const openWindow = (): void => {
    const stateFile = path.join(app.getPath('userData'), 'window-state.json');
    window = createMainWindow(electron.BrowserWindow, {
      preload: paths.preload,
      state: readWindowState(stateFile),
      stateFile,
      screen: electron.screen,
      devTools: !app.isPackaged,
      log,
    });
  };

  // Every web contents, ours and any other (the developer tools), is held to the same rules.
  app.on('web-contents-created', (_event, contents) => guardContents(contents));
  app.on('second-instance', () => {
    const shown = live();
    if (shown?.isMinimized()) shown.restore();
    shown?.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (core && !live()) openWindow();
  });
  let closed = false;
  let closing: Promise<void> | undefined;
  app.on('before-quit', (event) => {
    if (closed || !core) return;
    // Running jobs stop where they stand, recorded as interrupted (resumable), and the engine ends; then quit.
    event.preventDefault();
    closing ??= closeWithin(core, CLOSE_LIMIT_MS, log).then(() => {
      closed = true;
      app.quit();
    });
  });

  return app.whenReady().then(() => {
    const { detector, restorer, parser, retinaface, background, colorizer, inpainter } = defaultModelPaths(
      paths.dataDir,
    );
    const engine: EngineConfig = {
      detector,
      restorer,
      parser,
      retinaface,
      background,
      colorizer,
      inpainter,
      dataDir: paths.dataDir,
    };
    try {
      core = createCore(
        { dataDir: paths.dataDir, version: app.getVersion(), shellLicences: shellLicences(runtime) },
        {
          spawnEngine: utilityEngine(electron.utilityProcess, {
            entry: paths.engineEntry,
            env: { ...process.env, [ENGINE_CONFIG_ENV]: JSON.stringify(engine) },
          }),
          mediaUrl: (id) => `${APP_ORIGIN}/media/${id}`,
          pickPaths: (kind) => pickPaths(electron.dialog, live(), kind),
          showInFolder: (file) => electron.shell.showItemInFolder(file),
        },
      );
    } catch (error) {
      // A library that is damaged or from a newer Heirloom is left as it is; the user is told why.
      electron.dialog.showErrorBox('Heirloom cannot open its library', toApiError(error).message);
      app.exit(1);
      return;
    }
    const opened = core;
    guardSession(electron.session.defaultSession);
    electron.protocol.handle(
      APP_SCHEME,
      appProtocolHandler({ renderer: paths.renderer, media: (id) => opened.media(id) }),
    );
    wireIpc(
      electron.ipcMain,
      opened,
      trustedSender(() => live()?.webContents),
      log,
    );
    forwardEvents(opened, () => live()?.webContents);
    openWindow();
  });
}
