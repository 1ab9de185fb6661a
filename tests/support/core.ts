import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCore, type Core, type CoreConfig, type CorePorts } from '../../src-main/core/app.ts';
import { forkEngine } from '../../src-main/core/engine-client.ts';
import { ENGINE_CONFIG_ENV, type EngineConfig } from '../../src-main/core/engine/protocol.ts';
import { REPO } from './paths.ts';

export interface CoreOptions {
  /** More of the core's configuration (a model mirror, another manifest). */
  readonly config?: Omit<CoreConfig, 'dataDir' | 'version'>;
  /** The engine checks checkpoints against the tiny presets (tests/support/use-tiny-presets.ts). */
  readonly tinyPresets?: boolean;
  /** The desktop shell's ports (system dialogs, the file manager), as a test fakes them. */
  readonly ports?: Pick<CorePorts, 'pickPaths' | 'showInFolder'>;
}

/** The core in this process with its engine in a child, as the hosts make it (media URLs are plain ids). */
export function coreFor(
  dataDir: string,
  models: Omit<EngineConfig, 'dataDir'>,
  options: CoreOptions = {},
): Core {
  const engine: EngineConfig = { ...models, dataDir };
  const entry = path.join(REPO, 'src-main/core/engine-process/process.ts');
  const tiny = path.join(REPO, 'tests/support/use-tiny-presets.ts');
  return createCore(
    { dataDir, version: '0.0.0-test', ...options.config },
    {
      spawnEngine: forkEngine(entry, {
        env: { ...process.env, [ENGINE_CONFIG_ENV]: JSON.stringify(engine) },
        ...(options.tinyPresets
          ? { execArgv: ['--import', import.meta.resolve('tsx'), '--import', pathToFileURL(tiny).href] }
          : {}),
      }),
      mediaUrl: (id) => `/media/${id}`,
      ...options.ports,
    },
  );
}
