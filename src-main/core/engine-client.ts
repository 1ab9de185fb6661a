import type { EngineInfo } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import { isFromEngine, type EngineTransport, type FromEngine, type SpawnEngine } from './engine/protocol.ts';
import { PRIORITIES, PriorityQueue, type Priority } from './engine-client/queue.ts';

export { forkEngine, type ForkOptions } from './engine-client/fork.ts';
export type { Priority } from './engine-client/queue.ts';

/*
 * The main process's side of the engine process (ARCHITECTURE.md rule 4). It owns the order of the work:
 * one queue by priority, one run in the engine at a time (the engine has one set of sessions, and two runs
 * would only fight for the same cores; a run that pauses lets a more urgent one go while it waits), requests coalesced and cancelled here, and the engine restarted
 * when it dies (a native crash in onnxruntime must not take the app down with it).
 */

/** What the status display shows; the contract's EngineInfo.state. */
export type EngineState = EngineInfo['state'];

export interface RequestOptions {
  readonly priority: Priority;
  /**
   * Requests with the same key (`preview:face:12`) ask for the same thing: only the newest one's answer is
   * wanted, so it replaces a waiting one, and a running one is cancelled. Both reject with CANCELLED.
   */
  readonly coalesceKey?: string;
  /**
   * The request gives way: when a more urgent one arrives while it runs, it is stopped in the engine and waits
   * again at the head of its lane, to run from the start after that one (its caller only waits longer). For
   * background work, which would otherwise hold the engine for a whole restore while the user waits.
   */
  readonly yields?: boolean;
  /**
   * The request pauses for more urgent ones instead: while it runs, the most urgent request waiting that is more
   * urgent than it is sent to run at its next pause (serve.ts), and it then goes on where it was. For a long
   * export, which would otherwise hold every preview for as long as it takes to enlarge a scan, and would lose
   * its work if stopped.
   */
  readonly pauses?: boolean;
  /** Aborting rejects the request with CANCELLED at once; a running one is asked to stop. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (data: unknown) => void;
}

/** The engine is given up on after `deaths` deaths within `windowMs` with no run finished in between. */
export interface CrashLoopLimit {
  readonly deaths: number;
  readonly windowMs: number;
}

export interface EngineClientOptions {
  /** The engine died and a new one was started; `reason` is one line (the contract's engine.restarted). */
  readonly onRestart?: (reason: string) => void;
  readonly onStateChange?: (state: EngineState) => void;
  /** How long a new engine has to say it is ready before it is killed and counted as a death. */
  readonly startTimeoutMs?: number;
  readonly crashLoop?: CrashLoopLimit;
}

/*
 * A tsx child starts in ~0.3 s here, Electron's utilityProcess with onnxruntime's native library in about a
 * second; 30 s leaves room for a slow disk and an antivirus scan before a hung start is called a death.
 */
const START_TIMEOUT_MS = 30_000;

/*
 * A crash on one bad photo is followed by a run that finishes, which clears the count. Three deaths in a row
 * within a minute is an engine that cannot work (a missing native library, a model that crashes every run):
 * respawning it forever would spin a core and never answer, so the waiting requests fail instead. A new
 * request after that tries one fresh engine.
 */
const CRASH_LOOP: CrashLoopLimit = { deaths: 3, windowMs: 60_000 };

type Outcome = { readonly value: unknown } | { readonly error: AppError };

interface Request {
  readonly id: number;
  readonly op: string;
  readonly args: unknown;
  readonly priority: Priority;
  readonly coalesceKey: string | undefined;
  readonly yields: boolean;
  readonly pauses: boolean;
  readonly onProgress: ((data: unknown) => void) | undefined;
  settled: boolean;
  /** Asked to stop for a more urgent request: its run's end puts it back in the queue instead of settling it. */
  preempted: boolean;
  /** Resolves or rejects the caller's promise, the first time only. */
  settle(outcome: Outcome): void;
}

interface Engine {
  readonly transport: EngineTransport;
  ready: boolean;
  /**
   * The request the engine is running. A cancelled or superseded one stays here, settled, until the engine
   * replies for it: only then is the next one sent, so at most one operation runs in the engine.
   */
  running: Request | null;
  /** A more urgent request sent to run while `running` (one that pauses) waits for it. */
  jumper: Request | null;
  startTimer: NodeJS.Timeout | undefined;
  /** Set when the client killed it for not starting in time, so its exit is told as that. */
  failedToStart: string | undefined;
  readonly exited: Promise<void>;
}

function superseded(op: string): AppError {
  return new AppError('CANCELLED', `${op}: superseded by a newer request`);
}

function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `signal ${signal}`;
  return code === null ? 'it could not be started' : `exit code ${code}`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

export class EngineClient {
  private readonly queue = new PriorityQueue<Request>();
  private readonly startTimeoutMs: number;
  private readonly crashLoop: CrashLoopLimit;
  private engine: Engine | null = null;
  private nextId = 1;
  /** When the engine died since a run last finished. */
  private deaths: number[] = [];
  private lastState: EngineState = 'stopped';
  private closing: Promise<void> | undefined;

  constructor(
    private readonly spawn: SpawnEngine,
    private readonly options: EngineClientOptions = {},
  ) {
    this.startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
    this.crashLoop = options.crashLoop ?? CRASH_LOOP;
  }

  get state(): EngineState {
    const engine = this.engine;
    if (!engine) return 'stopped';
    if (!engine.ready) return 'starting';
    return engine.running || engine.jumper ? 'busy' : 'idle';
  }

  /** The engine process's id, while there is one. */
  get pid(): number | undefined {
    return this.engine?.transport.pid;
  }

  /**
   * Runs `op` in the engine with `args` (paths and numbers: pixels travel as files) and resolves with what
   * its handler returns. Rejects with an AppError: the handler's code, CANCELLED when aborted or superseded,
   * INTERNAL when the engine died. The engine is started on the first request.
   */
  request<T>(op: string, args: unknown, options: RequestOptions): Promise<T> {
    if (this.closing) return Promise.reject(new AppError('CANCELLED', 'the app is closing'));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AppError('CANCELLED', `${op} was cancelled`));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => this.drop(request, new AppError('CANCELLED', `${op} was cancelled`));
      const request: Request = {
        id: this.nextId++,
        op,
        args,
        priority: options.priority,
        coalesceKey: options.coalesceKey,
        yields: options.yields === true,
        pauses: options.pauses === true,
        onProgress: options.onProgress,
        settled: false,
        preempted: false,
        settle(outcome) {
          if (request.settled) return;
          request.settled = true;
          signal?.removeEventListener('abort', onAbort);
          // The protocol carries any value; what `op` returns is the caller's to know.
          if ('value' in outcome) resolve(outcome.value as T);
          else reject(outcome.error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(request);
    });
  }

  /** Kills the engine and rejects every request with CANCELLED; resolves once the process has gone. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const engine = this.engine;
    this.failAll(new AppError('CANCELLED', 'the app is closing'));
    if (engine) {
      clearTimeout(engine.startTimer);
      engine.transport.kill();
      // Until its exit is seen the process may linger (a zombie still answers kill(pid, 0)).
      await engine.exited;
    }
    this.engine = null;
    this.emitState();
  }

  private enqueue(request: Request): void {
    const running = this.engine?.running;
    if (request.coalesceKey !== undefined && running?.coalesceKey === request.coalesceKey) {
      this.drop(running, superseded(running.op));
    }
    // A superseded running request leaves the engine busy until it stops; the newcomer waits its turn in
    // arrival order like any other (jumping the queue would let one busy slider starve every other face).
    const replaced = this.queue.add(request);
    replaced?.settle({ error: superseded(replaced.op) });
    // The run in front of the newcomer: the one that jumped ahead, else the running one.
    const front = this.engine?.jumper ?? running;
    if (
      front?.yields &&
      !front.settled &&
      !front.preempted &&
      PRIORITIES.indexOf(request.priority) < PRIORITIES.indexOf(front.priority)
    ) {
      front.preempted = true;
      this.engine!.transport.send({ type: 'cancel', id: front.id });
    }
    if (!this.engine) this.startEngine();
    this.pump();
  }

  /** Rejects `request` now; a running one is asked to stop at its next checkpoint. */
  private drop(request: Request, error: AppError): void {
    if (request.settled) return;
    const engine = this.engine;
    if (engine?.running === request || engine?.jumper === request) {
      engine.transport.send({ type: 'cancel', id: request.id });
    } else this.queue.remove(request);
    request.settle({ error });
  }

  /**
   * Sends the most urgent request when the engine is ready and free; while it runs one that pauses, the most
   * urgent request more urgent than that one, to jump ahead of it.
   */
  private pump(): void {
    const engine = this.engine;
    if (engine?.ready && !engine.running) {
      const next = this.queue.take();
      if (next) {
        engine.running = next;
        engine.transport.send({ type: 'run', id: next.id, op: next.op, args: next.args });
      }
    } else if (engine?.ready && engine.running?.pauses && !engine.running.settled && !engine.jumper) {
      const next = this.queue.take();
      if (next && PRIORITIES.indexOf(next.priority) < PRIORITIES.indexOf(engine.running.priority)) {
        engine.jumper = next;
        engine.transport.send({ type: 'run', id: next.id, op: next.op, args: next.args, jumps: true });
      } else if (next) this.queue.putBack(next);
    }
    this.emitState();
  }

  private startEngine(): void {
    let transport: EngineTransport;
    try {
      transport = this.spawn();
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.failAll(
        new AppError('INTERNAL', `the engine process could not be started: ${text.split('\n')[0]}`),
      );
      return;
    }
    let markExited = (): void => {};
    const engine: Engine = {
      transport,
      ready: false,
      running: null,
      jumper: null,
      startTimer: undefined,
      failedToStart: undefined,
      exited: new Promise<void>((resolve) => (markExited = resolve)),
    };
    engine.startTimer = setTimeout(() => {
      engine.failedToStart = `did not start within ${seconds(this.startTimeoutMs)}`;
      transport.kill();
    }, this.startTimeoutMs);
    this.engine = engine;
    transport.onMessage((message) => this.receive(engine, message));
    transport.onExit((code, signal) => {
      markExited();
      this.exited(engine, code, signal);
    });
    this.emitState();
  }

  private receive(engine: Engine, message: unknown): void {
    // An engine that has been replaced may still say something on its way out.
    if (engine !== this.engine || !isFromEngine(message)) return;
    if (message.type === 'ready') {
      clearTimeout(engine.startTimer);
      engine.ready = true;
      this.pump();
      return;
    }
    const request = [engine.jumper, engine.running].find((r) => r?.id === message.id);
    if (!request) return;
    if (message.type === 'progress') {
      if (!request.settled) request.onProgress?.(message.data);
      return;
    }
    if (request === engine.jumper) engine.jumper = null;
    else engine.running = null;
    this.deaths = [];
    if (
      request.preempted &&
      !request.settled &&
      message.type === 'failed' &&
      message.error.code === 'CANCELLED'
    ) {
      // Stopped for a more urgent request, which runs first; this one starts again after it.
      request.preempted = false;
      this.queue.putBack(request);
    } else request.settle(outcomeOf(message));
    this.pump();
  }

  private exited(engine: Engine, code: number | null, signal: string | null): void {
    clearTimeout(engine.startTimer);
    if (this.closing || engine !== this.engine) return;
    this.engine = null;
    const running = engine.jumper ?? engine.running;
    const doing = running ? ` while running ${running.op}` : engine.ready ? '' : ' while starting';
    const reason = engine.failedToStart
      ? `the engine process ${engine.failedToStart}`
      : `the engine process stopped unexpectedly (${describeExit(code, signal)})${doing}`;

    const now = Date.now();
    this.deaths = [...this.deaths.filter((at) => now - at < this.crashLoop.windowMs), now];
    if (this.deaths.length >= this.crashLoop.deaths) {
      const { deaths, windowMs } = this.crashLoop;
      const error = new AppError(
        'INTERNAL',
        `${reason}; it stopped ${deaths} times within ${seconds(windowMs)} without finishing any work, so it was not restarted`,
      );
      running?.settle({ error });
      engine.running?.settle({ error });
      this.failAll(error);
      this.emitState();
      return;
    }
    // The running request is not retried: it may be what killed the engine. The waiting ones run on the new one.
    running?.settle({ error: new AppError('INTERNAL', `${reason}; it has been restarted`) });
    // A paused run under the one that jumped ahead died with it, but did not kill it.
    engine.running?.settle({ error: new AppError('INTERNAL', `${reason}; it has been restarted`) });
    this.startEngine();
    this.options.onRestart?.(reason);
  }

  private failAll(error: AppError): void {
    this.engine?.running?.settle({ error });
    this.engine?.jumper?.settle({ error });
    for (const request of this.queue.drain()) request.settle({ error });
  }

  private emitState(): void {
    const state = this.state;
    if (state === this.lastState) return;
    this.lastState = state;
    this.options.onStateChange?.(state);
  }
}

function outcomeOf(reply: Extract<FromEngine, { type: 'done' | 'failed' }>): Outcome {
  if (reply.type === 'done') return { value: reply.value };
  return { error: new AppError(reply.error.code, reply.error.message) };
}
