import path from 'node:path';
import { createCore, type Core } from '../../src-main/core/app.ts';
import { forkEngine } from '../../src-main/core/engine-client.ts';
import { ENGINE_CONFIG_ENV, type EngineConfig } from '../../src-main/core/engine/protocol.ts';
import { REPO } from './paths.ts';

/** The core in this process with its engine in a child, as the hosts make it (media URLs are plain ids). */
export function coreFor(dataDir: string, models: Omit<EngineConfig, 'dataDir'>): Core {
  const engine: EngineConfig = { ...models, dataDir };
  const entry = path.join(REPO, 'src-main/core/engine/process.ts');
  return createCore(
    { dataDir, version: '0.0.0-test' },
    {
      spawnEngine: forkEngine(entry, {
        env: { ...process.env, [ENGINE_CONFIG_ENV]: JSON.stringify(engine) },
      }),
      mediaUrl: (id) => `/media/${id}`,
    },
  );
}
