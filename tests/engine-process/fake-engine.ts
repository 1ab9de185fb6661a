import fs from 'node:fs';
import { AppError } from '../../src-main/contract/errors.ts';
import { EngineError } from '../../src-main/core/engine/errors.ts';
import { checkpoint, serveEngine, type Handler } from '../../src-main/core/engine/serve.ts';

/*
 * An engine for tests of the process plumbing: operations that behave like the real ones in the ways that
 * matter here (they take time, yield or block the loop, report progress, fail, crash) and compute nothing.
 * FAKE_ENGINE=exit makes it exit as it starts, FAKE_ENGINE=silent never say ready: engines that cannot start.
 */

if (process.env.FAKE_ENGINE === 'exit') process.exit(3);

/** What each run did, in order, since the tests last read it back with the `history` operation. */
const history: string[] = [];

interface Args {
  readonly ms?: number;
  readonly tag?: string;
  readonly steps?: number;
  readonly code?: string;
}

function argsOf(value: unknown): Args {
  return typeof value === 'object' && value !== null ? value : {};
}

/** Keeps this thread busy for `ms`, as onnxruntime's session.run() does for a whole inference. */
function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Records that `name` started, then how it ended: the tests tell a cancelled run from one never started. */
function traced(name: string, handler: Handler): Handler {
  return async (value, context) => {
    const { tag } = argsOf(value);
    const label = tag === undefined ? name : `${name}:${tag}`;
    history.push(`start ${label}`);
    try {
      const result = await handler(value, context);
      history.push(`done ${label}`);
      return result;
    } catch (error) {
      history.push(`${context.signal.aborted ? 'cancelled' : 'failed'} ${label}`);
      throw error;
    }
  };
}

const handlers: Record<string, Handler> = {
  echo: traced('echo', async (value) => value),
  // Work in 5 ms slices with a checkpoint between them, as a pipeline does between faces and steps.
  sleep: traced('sleep', async (value, { signal, progress }) => {
    const end = performance.now() + (argsOf(value).ms ?? 0);
    progress('started');
    while (performance.now() < end) {
      blockFor(5);
      await checkpoint(signal);
    }
    return 'slept';
  }),
  // As `sleep`, pausing between slices as a long export does between tiles: a run sent to jump goes there.
  pausing: traced('pausing', async (value, { pause, progress }) => {
    const end = performance.now() + (argsOf(value).ms ?? 0);
    progress('started');
    let slices = 0;
    while (performance.now() < end) {
      blockFor(5);
      slices++;
      await pause();
    }
    return slices;
  }),
  block: traced('block', async (value, { signal }) => {
    blockFor(argsOf(value).ms ?? 0);
    await checkpoint(signal);
    return 'blocked';
  }),
  progress: traced('progress', async (value, { signal, progress }) => {
    const steps = argsOf(value).steps ?? 0;
    for (let step = 1; step <= steps; step++) {
      progress({ step, of: steps });
      await checkpoint(signal);
    }
    return steps;
  }),
  crash: async () => {
    process.kill(process.pid, 'SIGKILL');
    return 'unreachable';
  },
  fail: traced('fail', async (value) => {
    const code = argsOf(value).code;
    if (code === 'engine') throw new EngineError('bad-model', 'restore.onnx is not a face restorer');
    if (code === 'io') return fs.readFileSync('/nonexistent/heirloom/photo.jpg');
    if (code === 'plain') throw new Error('tensor shape mismatch\n    at someFunction (engine.ts:1:1)');
    if (code === 'MODEL_CORRUPT') throw new AppError('MODEL_CORRUPT', 'codeformer.onnx is damaged');
    throw Object.assign(new Error(`failed with ${code}`), { code });
  }),
  history: async () => history.splice(0),
};

if (process.env.FAKE_ENGINE === 'silent') setInterval(() => {}, 1000);
else serveEngine(handlers);
