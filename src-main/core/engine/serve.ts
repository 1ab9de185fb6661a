import { isErrorCode, type ApiError, type ErrorCode } from '../../contract/errors.ts';
import { EngineError, type EngineErrorCode } from './errors.ts';
import { isToEngine, type EnginePort } from './protocol.ts';

/*
 * The engine process's side of protocol.ts: it runs the operations it is sent, one at a time, in the order
 * they arrive, except that a run sent to jump the queue goes at the running one's next `pause`. It decides
 * nothing: the main process orders, coalesces and cancels (engine-client.ts).
 */

export interface OperationContext {
  /** Aborted when the main process cancels this run; check it with `checkpoint` between steps. */
  readonly signal: AbortSignal;
  /** Sends `data` to the caller's onProgress; dropped once the run is cancelled. */
  progress(data: unknown): void;
  /**
   * A checkpoint at which a more urgent run sent to jump the queue (a preview during a long export) runs first,
   * while this one waits with everything it has made so far; then this one goes on, or throws if cancelled.
   */
  pause(): Promise<void>;
}

export type Handler = (args: unknown, context: OperationContext) => Promise<unknown>;

function cancelled(): EngineError {
  return new EngineError('cancelled', 'cancelled');
}

/**
 * Yields to the event loop, then throws if the run was cancelled. A cancel is a message, and messages are
 * only read between turns of the loop: an operation that never yields (onnxruntime's session.run() blocks
 * the loop for a whole inference) cannot see one. setImmediate runs after the loop's poll for I/O, so a
 * cancel already in the pipe has been delivered when it resolves; a timer of 0 ms would not promise that.
 */
export async function checkpoint(signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

/** A context for running an operation outside the engine process (benchmarks, tests): nothing jumps ahead. */
export function directContext(signal = new AbortController().signal): OperationContext {
  return { signal, progress: () => {}, pause: () => checkpoint(signal) };
}

/**
 * The contract's code for each engine error (engine/errors.ts), so a host can choose how to show it. An
 * unreadable image is IO: the file is there but cannot be read or decoded (the contract's PhotoState
 * 'unreadable'), the same mapping as ops.ts.
 */
const ENGINE_ERROR_CODES: Record<EngineErrorCode, ErrorCode> = {
  'unreadable-image': 'IO',
  'image-too-large': 'INVALID_INPUT',
  'bad-model': 'MODEL_CORRUPT',
  cancelled: 'CANCELLED',
};

function firstLine(text: string): string {
  return text.split('\n')[0] || 'internal error';
}

/**
 * A handler's error as `{code, message}` (ARCHITECTURE.md rule 2): an error whose `code` is one of the
 * contract's keeps it (AppError, or a plain Error given one); an EngineError gets its contract code; a Node
 * system error (it has a `syscall`: ENOENT, EACCES, ENOSPC…) is IO, since operations read and write files;
 * anything else is INTERNAL. The message is its first line: a stack or a native library's dump is no use to
 * a user.
 */
export function toWireError(error: unknown): ApiError {
  if (error instanceof EngineError)
    return { code: ENGINE_ERROR_CODES[error.code], message: firstLine(error.message) };
  if (!(error instanceof Error)) return { code: 'INTERNAL', message: firstLine(String(error)) };
  const message = firstLine(error.message);
  if ('code' in error && isErrorCode(error.code)) return { code: error.code, message };
  if ('syscall' in error && typeof error.syscall === 'string') return { code: 'IO', message };
  return { code: 'INTERNAL', message };
}

/**
 * The parent of a process started by child_process.fork. When the parent goes (it crashed, or was killed),
 * the IPC channel closes: the engine exits then, so it never outlives the app holding gigabytes of models.
 */
export function processPort(proc: NodeJS.Process = process): EnginePort {
  const send = proc.send?.bind(proc);
  if (!send) throw new Error('the engine process has no IPC channel: start it with child_process.fork');
  proc.on('disconnect', () => proc.exit(0));
  return {
    // A reply to a parent that has just gone would throw ERR_IPC_CHANNEL_CLOSED; the exit above follows.
    send: (message) => {
      if (proc.connected) send(message);
    },
    onMessage: (listener) => proc.on('message', listener),
  };
}

interface Run {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
}

/** Serves `handlers` (operation name → handler) to the main process over `port`; says `ready` at once. */
export function serveEngine(
  handlers: Readonly<Record<string, Handler>>,
  port: EnginePort = processPort(),
): void {
  const waiting: Run[] = [];
  /** Runs sent to go before the one running, at its next `pause` (protocol.ts `jumps`). */
  const jumpers: Run[] = [];
  /** The runs under way: the one running, and one that jumped ahead of it while it is paused. */
  const active = new Map<number, AbortController>();

  async function runOne(run: Run): Promise<void> {
    const { id } = run;
    const controller = new AbortController();
    const signal = controller.signal;
    active.set(id, controller);
    const handler = Object.hasOwn(handlers, run.op) ? handlers[run.op] : undefined;
    try {
      if (!handler) throw new Error(`unknown engine operation: ${run.op}`);
      const value = await handler(run.args, {
        signal,
        progress: (data) => {
          if (!signal.aborted) port.send({ type: 'progress', id, data });
        },
        pause: async () => {
          await checkpoint(signal);
          for (let jumper = jumpers.shift(); jumper; jumper = jumpers.shift()) await runOne(jumper);
          signal.throwIfAborted();
        },
      });
      // Inside the try: a value that cannot be cloned fails this run instead of the engine.
      port.send({ type: 'done', id, value });
    } catch (error) {
      port.send({ type: 'failed', id, error: toWireError(error) });
    }
    active.delete(id);
  }

  async function runAll(): Promise<void> {
    for (let run = jumpers.shift() ?? waiting.shift(); run; run = jumpers.shift() ?? waiting.shift()) {
      await runOne(run);
    }
  }

  port.onMessage((message) => {
    if (!isToEngine(message)) return;
    if (message.type === 'run') {
      (message.jumps ? jumpers : waiting).push(message);
      if (active.size === 0) void runAll();
      return;
    }
    const controller = active.get(message.id);
    // The reason is what signal.throwIfAborted() throws, so a handler using it directly maps to CANCELLED.
    if (controller) controller.abort(cancelled());
    else {
      for (const queue of [jumpers, waiting]) {
        const index = queue.findIndex((run) => run.id === message.id);
        if (index < 0) continue;
        queue.splice(index, 1);
        port.send({ type: 'failed', id: message.id, error: toWireError(cancelled()) });
        break;
      }
    }
  });
  port.send({ type: 'ready' });
}

/** Electron's ParentPort, as far as the engine uses it: messages arrive wrapped, as `{data}`. */
export interface ParentPortLike {
  on(event: 'message', listener: (event: { readonly data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
}

/**
 * The parent of an Electron utility process (`process.parentPort`, a property of `process`: nothing of
 * Electron is imported). Unlike a forked child's IPC channel there is no 'disconnect' to watch: a
 * utility process is a Chromium child process, which Chromium ends with the app (its connection to the
 * browser process closes), so the engine never outlives the app.
 */
export function utilityPort(parent: ParentPortLike): EnginePort {
  return {
    send: (message) => parent.postMessage(message),
    onMessage: (listener) => parent.on('message', (event) => listener(event.data)),
  };
}
