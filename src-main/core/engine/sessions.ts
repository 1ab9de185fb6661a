import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { EngineError } from './errors.ts';

/** Execution providers in the order we prefer them; each is tried only where onnxruntime-node ships it. */
export type ExecutionProvider = 'cuda' | 'dml' | 'coreml' | 'cpu';

export interface SessionChoice {
  readonly session: ort.InferenceSession;
  /** The provider the session runs on, and why, for the "which GPU" line of the UI. */
  readonly provider: ExecutionProvider;
  readonly fallbackReason?: string;
}

export interface SessionOptions {
  /** Providers to try, best first. Default: the platform's accelerators, then CPU. */
  readonly providers?: readonly ExecutionProvider[];
  /** CPU threads; default: all cores (onnxruntime's own default oversubscribes in worker threads). */
  readonly threads?: number;
}

export function defaultProviders(platform: NodeJS.Platform = process.platform): ExecutionProvider[] {
  if (platform === 'win32') return ['cuda', 'dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  if (platform === 'linux' && process.arch === 'x64') return ['cuda', 'cpu'];
  return ['cpu'];
}

/**
 * CUDA ships as separate provider libraries beside onnxruntime's binding, and only when they were installed
 * (this project installs onnxruntime-node without them by default): look before trying, so a CPU-only
 * machine does not pay for, or print, a failed CUDA start.
 */
function providerInstalled(provider: ExecutionProvider): boolean {
  if (provider !== 'cuda') return true;
  const binding = path.join(
    path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  const file =
    process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  return existsSync(path.join(binding, file));
}

/** The options every session of the app runs with; benchmarks use them too, so they measure the app. */
export function sessionOptionsFor(
  provider: ExecutionProvider,
  threads?: number,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads ?? os.availableParallelism(),
    interOpNumThreads: 1,
    // A memory pattern pre-plans one block per session for all of a run's activations and keeps it: with
    // CodeFormer's part A, part B and no-CFT graphs open, peak RSS went from 2.9 to 2.3 GB without it, at
    // the same speed (bench/convert.ts).
    enableMemPattern: false,
    // A provider that cannot start is reported through fallbackReason; onnxruntime's own log would
    // print a native stack trace to the user's terminal.
    logSeverityLevel: provider === 'cpu' ? 2 : 4,
  };
}

/**
 * Opens an ONNX model on the best provider that starts, falling back in order. Providers that are not
 * compiled into this onnxruntime build are skipped silently; one that exists but fails to start is
 * reported in `fallbackReason`.
 */
export async function openSession(
  model: string | Uint8Array,
  options: SessionOptions = {},
): Promise<SessionChoice> {
  const available = new Set(ort.listSupportedBackends().map((b) => b.name));
  const wanted = (options.providers ?? defaultProviders()).filter((p) => p === 'cpu' || available.has(p));
  if (!wanted.includes('cpu')) wanted.push('cpu');
  const reasons: string[] = [];
  for (const provider of wanted) {
    if (!providerInstalled(provider)) {
      reasons.push(`${provider} is not installed`);
      continue;
    }
    const sessionOptions = sessionOptionsFor(provider, options.threads);
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      const fallbackReason = reasons.length > 0 ? reasons.join('; ') : undefined;
      return { session, provider, ...(fallbackReason ? { fallbackReason } : {}) };
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (provider === 'cpu') {
        const name = typeof model === 'string' ? model : 'model';
        throw new EngineError('bad-model', `${name} could not be loaded: ${text.split('\n')[0]}`, {
          cause: error,
        });
      }
      reasons.push(`${provider} did not start: ${text.split('\n')[0]}`);
    }
  }
  throw new EngineError('bad-model', 'no execution provider could open the model');
}
