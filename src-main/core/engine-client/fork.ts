import { fork } from 'node:child_process';
import type { EngineTransport, SpawnEngine } from '../engine/protocol.ts';

export interface ForkOptions {
  /** The engine's environment; default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Node flags for the engine; default: tsx's loader for a .ts entry, none for a built .js one. */
  readonly execArgv?: readonly string[];
}

/**
 * fork would otherwise pass this process's own flags on (under `node --test`, `--test` among them). tsx is
 * named by its resolved URL, since `--import tsx` resolves from the engine's working folder, not ours.
 */
function defaultExecArgv(entry: string): string[] {
  return entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
}

/**
 * Engines as child processes of this one (the Node host, the CLI, tests), running `entry`, a script that
 * calls serveEngine. Messages use the 'advanced' serialization, the structured clone Electron's
 * utilityProcess uses, so a value that crosses one host crosses the other.
 */
export function forkEngine(entry: string, options: ForkOptions = {}): SpawnEngine {
  return () => {
    const child = fork(entry, [], {
      serialization: 'advanced',
      env: options.env ?? process.env,
      execArgv: [...(options.execArgv ?? defaultExecArgv(entry))],
    });
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    let exited = false;
    function exit(code: number | null, signal: string | null): void {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(code, signal);
    }
    child.on('exit', exit);
    // A process that could not be started emits 'error' and never 'exit'. Other errors ('error' on a send to
    // a process that is going) are followed by 'exit', which tells the client what happened.
    child.on('error', () => {
      if (child.pid === undefined) exit(null, null);
    });
    const transport: EngineTransport = {
      pid: child.pid,
      send: (message) => {
        // With a callback a failed send is reported here instead of as an 'error' event; the exit follows.
        if (child.connected) child.send(message, () => {});
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => exitListeners.push(listener),
      kill: () => child.kill(),
    };
    return transport;
  };
}
