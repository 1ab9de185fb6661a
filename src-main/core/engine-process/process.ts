import { Engine } from './ops.ts';
import { ENGINE_CONFIG_ENV, type EngineConfig } from '../engine/protocol.ts';
import { processPort, serveEngine, utilityPort, type ParentPortLike } from '../engine/serve.ts';

/**
 * The engine process's entry (`child_process.fork` under the Node host and in tests; Electron's utilityProcess
 * in the app): it owns the onnxruntime sessions and serves the engine's operations to the main process. Its
 * models come in HEIRLOOM_ENGINE (JSON of EngineConfig), set by the one who starts it.
 */
const config = JSON.parse(process.env[ENGINE_CONFIG_ENV] ?? '{}') as EngineConfig;
// Electron's utility process talks through process.parentPort; a forked child through process.send.
const parent = (process as { parentPort?: ParentPortLike }).parentPort;
serveEngine(new Engine(config).handlers(), parent ? utilityPort(parent) : processPort());
