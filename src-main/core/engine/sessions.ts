import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { EngineError } from './errors.ts';

/** Execution providers in the order we prefer them; each is tried only where onnxruntime-node ships it. */
export type ExecutionProvider = 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';

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

/**
 * onnxruntime 1.30's POSIX builds (the Linux one of onnxruntime-node included) carry Microsoft's 1DS
 * telemetry client (posix/telemetry.cc). The first session of a process starts it: it uploads usage events to
 * mobile.events.data.microsoft.com, leaves an empty `mat-debug-<pid>.log` and a `.ses` file in the temp folder
 * ($TMPDIR) on every run, and keeps a device id and an event cache in
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime. It stays off when ORT_DISABLE_TELEMETRY=1 is set as it starts
 * (measured: set after the import but before the first InferenceSession.create, none of those appear;
 * tests/engine/sessions.test.ts); other versions of its source read ORT_TELEMETRY_DISABLED
 * (core/platform/telemetry_environment.h), so both are set. A photo app sends nothing anywhere, so the app
 * sets them whatever the environment says. Node writes process.env through to the C environment the library
 * reads, and child processes inherit it.
 */
function keepOnnxRuntimeOffline(): void {
  process.env.ORT_DISABLE_TELEMETRY = '1';
  process.env.ORT_TELEMETRY_DISABLED = '1';
}

/**
 * The options every session of the app runs with; benchmarks use them too, so they measure the app. Every
 * session is created with them, so this is also where onnxruntime's telemetry is switched off before its
 * first session starts it.
 */
export function sessionOptionsFor(
  provider: ExecutionProvider,
  threads?: number,
): ort.InferenceSession.SessionOptions {
  keepOnnxRuntimeOffline();
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

/** Sessions opened by `openSession` and not released yet. */
const live = new Set<ort.InferenceSession>();

/**
 * How many sessions `openSession` opened that are not released yet: lets tests prove that a failed open
 * releases what it had opened (each full-size CodeFormer part holds hundreds of MB).
 */
export function liveSessionCount(): number {
  return live.size;
}

/** Counts the session as live until its `release()` is called, by whoever calls it. */
function tracked(session: ort.InferenceSession): ort.InferenceSession {
  live.add(session);
  const release = session.release.bind(session);
  session.release = () => {
    live.delete(session);
    return release();
  };
  return session;
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
  const reasons: string[] = [];
  const wanted = (options.providers ?? defaultProviders()).filter((p) => {
    if (p === 'cpu' || available.has(p)) return true;
    // Asked for but not in this build (DirectML on Linux): said, never a silent CPU.
    reasons.push(`${p} is not in this onnxruntime build`);
    return false;
  });
  if (!wanted.includes('cpu')) wanted.push('cpu');
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
      return { session: tracked(session), provider, ...(fallbackReason ? { fallbackReason } : {}) };
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      if (provider === 'cpu') {
        const name = typeof model === 'string' ? model : 'model';
        throw new EngineError('bad-model', `${name} could not be loaded: ${text.split('\n')[0]}`, {
          cause: error,
        });
      }
      reasons.push(`${provider} did not start: ${plainReason(text)}`);
    }
  }
  throw new EngineError('bad-model', 'no execution provider could open the model');
}

/** Every provider Heirloom knows, whether this machine can use it, and why not (or what it needs). */
export function describeProviders(
  platform: NodeJS.Platform = process.platform,
): { id: ExecutionProvider | 'webgpu'; available: boolean; why: string }[] {
  const compiled = new Set(ort.listSupportedBackends().map((b) => b.name));
  const cudaWhy =
    platform === 'darwin'
      ? 'CUDA is for NVIDIA GPUs on Linux and Windows'
      : !compiled.has('cuda')
        ? 'this onnxruntime-node build has no CUDA'
        : !providerInstalled('cuda')
          ? "onnxruntime-node's CUDA libraries are not installed (see the README: NVIDIA GPUs)"
          : 'installed; needs an NVIDIA GPU with CUDA 12 drivers';
  return [
    { id: 'cpu', available: true, why: `${os.availableParallelism()} CPU threads` },
    {
      id: 'cuda',
      available: platform !== 'darwin' && compiled.has('cuda') && providerInstalled('cuda'),
      why: cudaWhy,
    },
    {
      id: 'dml',
      available: platform === 'win32' && compiled.has('dml'),
      why: platform === 'win32' ? 'DirectML, any DirectX 12 GPU' : 'DirectML is Windows only',
    },
    {
      id: 'coreml',
      available: platform === 'darwin' && compiled.has('coreml'),
      why: platform === 'darwin' ? 'CoreML, Apple GPU and Neural Engine' : 'CoreML is macOS only',
    },
    {
      id: 'webgpu',
      available: compiled.has('webgpu'),
      why: compiled.has('webgpu')
        ? 'in this onnxruntime-node build; needs a GPU with Vulkan, Direct3D 12 or Metal'
        : 'this onnxruntime-node build has no WebGPU',
    },
  ];
}

/**
 * The words of an onnxruntime failure without its source location and call site, which say nothing to a
 * person: `/onnxruntime_src/…/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(…) No supported
 * adapters` reads "No supported adapters"; `[ONNXRuntimeError] : 1 : FAIL : ` prefixes go too.
 */
export function plainReason(message: string): string {
  const line = message.split('\n')[0]!.replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '');
  const located = /^\S+\.(?:cc|cpp|h|hpp|mm):\d+ (.*)$/.exec(line);
  if (!located) return line.trim();
  // What follows the location is the function (`void ns::Class::Method(args)`), then the words.
  const rest = located[1]!;
  const signatureEnd = rest.lastIndexOf(') ');
  if (signatureEnd >= 0) return rest.slice(signatureEnd + 2).trim();
  return rest.replace(/^(?:\S+ )?\S*::\S+ /, '').trim();
}
