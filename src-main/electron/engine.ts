import type { ForkOptions } from 'electron';
import type { EngineTransport, SpawnEngine } from '../core/engine/protocol.ts';

/** One utility process, as far as the transport uses it (Electron's UtilityProcess). */
export interface UtilityChild {
  /** Undefined until the process has started. */
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
}

/** Electron's `utilityProcess` module. */
export interface UtilityProcessModule {
  fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityChild;
}

/** How the engine is started: its entry (the built engine-process/process.js) and its environment. */
export interface UtilityEngineOptions {
  readonly entry: string;
  readonly env: Record<string, string | undefined>;
}

/*
 * The engine in Electron's utilityProcess (ARCHITECTURE.md, "Facts": onnxruntime in worker threads crashes
 * inside Electron, and a native crash must not take the app down): a Chromium child process running Node,
 * which Electron ends when the app ends, and which reports its messages, unwrapped, as 'message'.
 */
export function utilityEngine(
  utilityProcess: UtilityProcessModule,
  options: UtilityEngineOptions,
): SpawnEngine {
  return () => {
    const env = Object.fromEntries(
      Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    // The name shows in the OS's task manager and in app.getAppMetrics().
    const child = utilityProcess.fork(options.entry, [], { serviceName: 'Heirloom engine', env });
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    child.on('exit', (code) => {
      exited = true;
      // Electron gives the exit code alone: a crash by signal shows as its code, never as a signal name.
      for (const listener of exitListeners.splice(0)) listener(code, null);
    });
    const transport: EngineTransport = {
      get pid() {
        return child.pid;
      },
      send: (message) => {
        // A message to a process that has gone is dropped: its exit tells the client what happened.
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => {
        if (!exited) child.kill();
      },
    };
    return transport;
  };
}
