import { isErrorCode, type ApiError } from '../../contract/errors.ts';

/*
 * The messages between the main process and the engine process (ARCHITECTURE.md rule 4: onnxruntime's
 * session.run() blocks the event loop for a whole inference, so inference runs in a process of its own).
 *
 * The protocol knows nothing of what an operation does: `op` names a handler of the engine and `args` and
 * `value` are whatever that handler takes and gives. Pixels never travel here: operations read and write files
 * whose paths the caller passes, so a message stays small whatever the photo's size.
 */

/**
 * Main → engine: run an operation, or stop the one with `id` at its next checkpoint. A run that `jumps` goes
 * before the running one, at that one's next pause (serve.ts), instead of after it.
 */
export type ToEngine =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly op: string;
      readonly args: unknown;
      readonly jumps?: boolean;
    }
  | { readonly type: 'cancel'; readonly id: number };

/** Engine → main: `ready` once its handlers listen, then progress and one `done` or `failed` per run. */
export type FromEngine =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly id: number; readonly data: unknown }
  | { readonly type: 'done'; readonly id: number; readonly value: unknown }
  | { readonly type: 'failed'; readonly id: number; readonly error: ApiError };

/**
 * The main side's end of one engine process: the only thing that differs between hosts (child_process.fork
 * under the Node host, Electron's utilityProcess in the app), so it is kept this small.
 */
export interface EngineTransport {
  send(message: ToEngine): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once, when the process has gone: `signal` is set when a signal killed it (SIGKILL, SIGSEGV…). */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  readonly pid?: number;
}

/** Starts a new engine process; the client calls it again after the engine dies. */
export type SpawnEngine = () => EngineTransport;

/** The engine side's end: the parent as the engine process sees it (process, or Electron's parentPort). */
export interface EnginePort {
  send(message: FromEngine): void;
  onMessage(listener: (message: unknown) => void): void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function hasId(message: Record<string, unknown>): boolean {
  return typeof message.id === 'number';
}

/*
 * Both ends check what they receive: the other end is our own code, but a message of the wrong shape (a
 * version mismatch after an update, a stray process.send from a library) must be ignored, not crash a loop.
 */

export function isToEngine(message: unknown): message is ToEngine {
  if (!isRecord(message) || !hasId(message)) return false;
  if (message.type === 'run') return typeof message.op === 'string';
  return message.type === 'cancel';
}

export function isFromEngine(message: unknown): message is FromEngine {
  if (!isRecord(message)) return false;
  switch (message.type) {
    case 'ready':
      return true;
    case 'progress':
    case 'done':
      return hasId(message);
    case 'failed':
      return (
        hasId(message) &&
        isRecord(message.error) &&
        isErrorCode(message.error.code) &&
        typeof message.error.message === 'string'
      );
    default:
      return false;
  }
}

/**
 * Where the engine process finds its EngineConfig (JSON), set by whoever starts it. Here, not in ops.ts, so a
 * host can start an engine without loading onnxruntime and sharp into its own process.
 */
export const ENGINE_CONFIG_ENV = 'HEIRLOOM_ENGINE';

export interface EngineConfig {
  readonly detector: string;
  /** A converted CodeFormer folder, an official checkpoint (.pth), or an ONNX restorer (the single-graph contract). */
  readonly restorer: string;
  /** Where an official checkpoint is converted to, once: the data folder. */
  readonly dataDir: string;
  /** The face parser (ParseNet, converted folder or checkpoint). Not there: every face is pasted as a square. */
  readonly parser?: string;
  /** RetinaFace ResNet-50 (converted folder or checkpoint), for albums that choose it. */
  readonly retinaface?: string;
  /**
   * Real-ESRGAN ×2 (converted folder or checkpoint), which enlarges exports asked bigger. Not there: they are
   * enlarged by plain resizing, and the export's job says so.
   */
  readonly background?: string;
  /** CodeFormer's colorization model (converted folder or checkpoint), for faces to colorize. */
  readonly colorizer?: string;
  /** CodeFormer's inpainting model (converted folder or checkpoint), for faces whose damage is painted. */
  readonly inpainter?: string;
}
