import { EventEmitter } from 'node:events';
import type { Reply } from '../../src-main/contract/index.ts';
import type { DialogLike } from '../../src-main/electron/dialogs.ts';
import type { UtilityProcessModule } from '../../src-main/electron/engine.ts';
import type { InvokeEvent, SenderFrame } from '../../src-main/electron/ipc.ts';
import type { ProtocolLike } from '../../src-main/electron/protocol.ts';
import type { ShellElectron } from '../../src-main/electron/shell.ts';

// Electron's own types, through the shapes that name them (only src-main/electron may import electron).
type BrowserWindowConstructorOptions = ConstructorParameters<ShellElectron['BrowserWindow']>[0];
type CustomScheme = Parameters<ProtocolLike['registerSchemesAsPrivileged']>[0][number];
type ForkOptions = Parameters<UtilityProcessModule['fork']>[2];
type OpenDialogOptions = Parameters<DialogLike<unknown>['showOpenDialog']>[1];
type OpenDialogReturnValue = Awaited<ReturnType<DialogLike<unknown>['showOpenDialog']>>;

/*
 * Hand-made stand-ins for the parts of `electron` the shell uses (the binary cannot run here). Each module of
 * src-main/electron takes its Electron objects as parameters, typed by what it uses; main.ts passes the real
 * ones, so tsc checks that Electron's own types fit those shapes, and these fakes must fit them too.
 */

/** An Electron event: a navigation's carries its URL. */
export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url = '') {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeFrame implements SenderFrame {
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
  ) {}
}

let nextId = 1;

export class FakeContents extends EventEmitter {
  readonly id = nextId++;
  readonly mainFrame = new FakeFrame('');
  readonly sent: { channel: string; message: unknown }[] = [];
  destroyed = false;
  windowOpenHandler: (() => { action: string }) | undefined;

  setWindowOpenHandler(handler: () => { action: 'deny' }): void {
    this.windowOpenHandler = handler;
  }
  async loadURL(url: string): Promise<void> {
    this.mainFrame.url = url;
  }
  getURL(): string {
    return this.mainFrame.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, message: unknown): void {
    this.sent.push({ channel, message });
  }
  /** An invoke event from `frame` (the main frame by default) of these contents. */
  invokeEvent(frame: FakeFrame | null = this.mainFrame): InvokeEvent {
    return { sender: { id: this.id }, senderFrame: frame };
  }
  /** Whether a navigation of kind `event` to `url` was let through. */
  navigates(event: 'will-frame-navigate' | 'will-redirect', url: string): boolean {
    const navigation = new FakeEvent(url);
    this.emit(event, navigation);
    return !navigation.defaultPrevented;
  }
}

export class FakeWindow extends EventEmitter {
  /** Called with each new window's contents, as Electron emits app 'web-contents-created'. */
  static onCreated: (contents: FakeContents) => void = () => {};
  readonly webContents = new FakeContents();
  readonly calls: string[] = [];
  maximized = false;
  minimized = false;
  destroyed = false;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeWindow.onCreated(this.webContents);
  }
  show(): void {
    this.calls.push('show');
  }
  focus(): void {
    this.calls.push('focus');
  }
  restore(): void {
    this.calls.push('restore');
    this.minimized = false;
  }
  maximize(): void {
    this.maximized = true;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getNormalBounds() {
    const { x = 0, y = 0, width = 0, height = 0 } = this.options;
    return { x, y, width, height };
  }
}

type Handler = (event: InvokeEvent, request: unknown) => Promise<Reply>;

export class FakeIpcMain {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke(channel, request) from `event`'s frame would resolve to (or reject with). */
  invoke(channel: string, event: InvokeEvent, request: unknown): Promise<Reply> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return handler(event, request);
  }
}

type PermissionHandler = (
  contents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
) => void;
type RequestListener = (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void;

export class FakeSession {
  permissionRequest: PermissionHandler | undefined;
  permissionCheck: (() => boolean) | undefined;
  beforeRequest: RequestListener | undefined;
  setPermissionRequestHandler(handler: PermissionHandler): void {
    this.permissionRequest = handler;
  }
  setPermissionCheckHandler(handler: () => boolean): void {
    this.permissionCheck = handler;
  }
  readonly webRequest = {
    onBeforeRequest: (listener: RequestListener): void => {
      this.beforeRequest = listener;
    },
  };
}

export class FakeProtocol {
  readonly privileged: CustomScheme[] = [];
  readonly handlers = new Map<string, (request: Request) => Promise<Response>>();
  constructor(private readonly calls: string[] = []) {}
  registerSchemesAsPrivileged(schemes: CustomScheme[]): void {
    this.calls.push('registerSchemesAsPrivileged');
    this.privileged.push(...schemes);
  }
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    this.handlers.set(scheme, handler);
  }
}

export class FakeChild extends EventEmitter {
  pid: number | undefined = undefined;
  readonly posted: unknown[] = [];
  kills = 0;
  constructor(private readonly exitOnKill: boolean) {
    super();
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
  kill(): boolean {
    this.kills++;
    // As a real process does, a while after it is killed (SIGTERM's 128 + 15).
    if (this.exitOnKill) setImmediate(() => this.emit('exit', 143));
    return true;
  }
}

export class FakeUtilityProcess {
  /** `exitOnKill`: each child exits on its own once killed; otherwise the test says when. */
  constructor(private readonly exitOnKill = false) {}
  readonly forks: {
    modulePath: string;
    args: string[] | undefined;
    options: ForkOptions | undefined;
    child: FakeChild;
  }[] = [];
  fork(modulePath: string, args?: string[], options?: ForkOptions): FakeChild {
    const child = new FakeChild(this.exitOnKill);
    this.forks.push({ modulePath, args, options, child });
    return child;
  }
}

export class FakeApp extends EventEmitter {
  isPackaged = true;
  hasLock = true;
  readonly quits: (number | 'quit')[] = [];
  constructor(
    private readonly userData: string,
    readonly calls: string[] = [],
  ) {
    super();
  }
  enableSandbox(): void {
    this.calls.push('enableSandbox');
  }
  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return this.hasLock;
  }
  async whenReady(): Promise<void> {
    this.calls.push('ready');
  }
  getPath(_name: 'userData'): string {
    return this.userData;
  }
  getVersion(): string {
    return '0.0.0-test';
  }
  quit(): void {
    this.quits.push('quit');
  }
  exit(code = 0): void {
    this.quits.push(code);
  }
}

/** Electron's dialog: error boxes and open dialogs recorded; an open dialog answers as the user does in `answer`. */
export class FakeDialog {
  readonly opened: { window: unknown; options: OpenDialogOptions }[] = [];
  /** What the next open dialog returns: paths chosen, or closed (the default). */
  answer: OpenDialogReturnValue = { canceled: true, filePaths: [] };
  constructor(readonly errors: { title: string; content: string }[] = []) {}
  showErrorBox(title: string, content: string): void {
    this.errors.push({ title, content });
  }
  async showOpenDialog(window: unknown, options: OpenDialogOptions): Promise<OpenDialogReturnValue> {
    this.opened.push({ window, options });
    return this.answer;
  }
}

/** A whole fake `electron`, its parts' calls recorded in order in `calls`. */
export function fakeElectron(userData: string) {
  const calls: string[] = [];
  const app = new FakeApp(userData, calls);
  const errors: { title: string; content: string }[] = [];
  const windows: FakeWindow[] = [];
  class BrowserWindow extends FakeWindow {
    constructor(options: BrowserWindowConstructorOptions) {
      super(options);
      windows.push(this);
    }
  }
  FakeWindow.onCreated = (contents) => app.emit('web-contents-created', new FakeEvent(), contents);
  const electron = {
    app,
    BrowserWindow,
    dialog: new FakeDialog(errors),
    ipcMain: new FakeIpcMain(),
    protocol: new FakeProtocol(calls),
    screen: { getDisplayMatching: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }) },
    session: { defaultSession: new FakeSession() },
    shell: { showItemInFolder: (file: string) => void calls.push(`showItemInFolder ${file}`) },
    utilityProcess: new FakeUtilityProcess(true),
  } satisfies ShellElectron;
  return { electron, calls, errors, windows };
}
