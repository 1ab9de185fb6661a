import { Engine, ENGINE_CONFIG_ENV, type EngineConfig } from './ops.ts';
import { serveEngine } from './serve.ts';

/**
 * The engine process's entry (`child_process.fork` under the Node host and in tests; Electron's utilityProcess
 * in the app): it owns the onnxruntime sessions and serves the engine's operations to the main process. Its
 * models come in HEIRLOOM_ENGINE (JSON of EngineConfig), set by the one who starts it.
 */
const config = JSON.parse(process.env[ENGINE_CONFIG_ENV] ?? '{}') as EngineConfig;
serveEngine(new Engine(config).handlers());
