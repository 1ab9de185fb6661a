import { fileURLToPath } from 'node:url';
import { EngineClient, forkEngine, type EngineClientOptions } from '../../src-main/core/engine-client.ts';

export const FAKE_ENGINE = fileURLToPath(new URL('./fake-engine.ts', import.meta.url));

/**
 * A client of a fake engine (fake-engine.ts), closed when the test (`t`) or the file (`{ after }`) ends: a
 * child process left running would keep the test process alive through its IPC channel.
 */
export function fakeClient(
  t: { after(fn: () => Promise<void>): void },
  options: EngineClientOptions = {},
  mode?: 'exit' | 'silent',
): EngineClient {
  const env = mode ? { ...process.env, FAKE_ENGINE: mode } : process.env;
  const client = new EngineClient(forkEngine(FAKE_ENGINE, { env }), options);
  t.after(() => client.close());
  return client;
}

/**
 * The fake engine's record of its runs (`start sleep`, `cancelled sleep`, `done echo:2`…) since the last
 * call, in order. It runs after everything already queued, so a test that starts with it finds the engine
 * started, idle and with nothing recorded.
 */
export function takeHistory(client: EngineClient): Promise<string[]> {
  return client.request<string[]>('history', null, { priority: 'export' });
}

/** Settles when a `sleep` run has begun in the engine: it reports progress once before its first slice. */
export function started(): { onProgress: () => void; started: Promise<void> } {
  let onProgress = (): void => {};
  const started = new Promise<void>((resolve) => (onProgress = resolve));
  return { onProgress, started };
}
