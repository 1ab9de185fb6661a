import fs from 'node:fs';
import path from 'node:path';
import type { ModelState } from '../contract/dto.ts';
import { toApiError } from '../contract/errors.ts';
import type { EventName, Events } from '../contract/events.ts';
import type { EngineClient } from './engine-client.ts';
import { downloadModel } from './models/download.ts';
import { modelUrl, readManifest, type ModelEntry } from './models/manifest.ts';
import {
  acceptedLicences,
  checkImport,
  findModel,
  installCopy,
  isCheckpoint,
  modelsDir,
  modelStatus,
  needsAcceptance,
  requireAcceptance,
  verifyModel,
  type InstalledModel,
} from './models/store.ts';

export interface ModelServiceOptions {
  readonly dataDir: string;
  /** Another list of models (tests, institutions); default models/manifest.json. */
  readonly manifest?: string;
  /** `<mirror>/<file>` instead of each model's public source, read at each download ('' or undefined: none). */
  mirror(): string | undefined;
  readonly engine: Pick<EngineClient, 'request'>;
  emit<E extends EventName>(event: E, data: Events[E]): void;
  /** A model was installed: what the core knows of the restorer's model is stale. */
  onInstalled(): void;
}

/**
 * The model routes: downloads run in the main process (streamed, nothing blocks), a CodeFormer checkpoint is
 * converted in the engine process (15 s of CPU at full size: never on the event loop), and the engine drops
 * its open restorer there, so the next restore uses the new model.
 */
export class ModelService {
  private readonly manifest: ModelEntry[];
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly options: ModelServiceOptions) {
    this.manifest = readManifest(options.manifest);
  }

  private state(
    entry: ModelEntry,
    installed: InstalledModel = modelStatus(entry, this.options.dataDir),
  ): ModelState {
    const accepted = acceptedLicences(this.options.dataDir)[entry.id];
    return {
      id: entry.id,
      task: entry.task,
      status: this.running.has(entry.id) ? 'downloading' : installed.status,
      why: this.running.has(entry.id) ? 'downloading' : installed.why,
      license: entry.license,
      licenseNeedsAcceptance: needsAcceptance(entry),
      licenseAcceptedAt: accepted?.acceptedAt ?? null,
      bytes: entry.bytes,
    };
  }

  list(): ModelState[] {
    return this.manifest.map((entry) => this.state(entry));
  }

  async verify(id: string): Promise<ModelState> {
    const entry = findModel(id, this.manifest);
    return this.state(entry, await verifyModel(entry, this.options.dataDir));
  }

  cancel(id: string): ModelState {
    const entry = findModel(id, this.manifest);
    this.running.get(id)?.abort();
    return this.state(entry);
  }

  /** Starts the download and answers at once; model.progress and model.state tell the rest. */
  download(id: string, acceptLicense: boolean): ModelState {
    const entry = findModel(id, this.manifest);
    if (this.running.has(id)) return this.state(entry);
    requireAcceptance(entry, acceptLicense, this.options.dataDir);
    const url = modelUrl(entry, this.options.mirror());
    const controller = new AbortController();
    this.running.set(id, controller);
    const dest = path.join(modelsDir(this.options.dataDir), entry.file);
    void (async () => {
      try {
        fs.mkdirSync(modelsDir(this.options.dataDir), { recursive: true });
        const { sha256 } = await downloadModel({
          url,
          dest,
          bytes: entry.bytes,
          sha256: entry.sha256,
          signal: controller.signal,
          onProgress: (p) => this.options.emit('model.progress', { id, phase: 'download', ...p }),
        });
        if (isCheckpoint(entry)) await this.convert(entry, dest, sha256, true);
        this.finished(entry, null);
      } catch (error) {
        this.finished(entry, toApiError(error).message);
      }
    })();
    return this.state(entry);
  }

  /** Installs a file the user has: a checkpoint is checked and converted in the engine; an ONNX file copied. */
  async import(id: string, file: string, acceptLicense: boolean): Promise<ModelState> {
    const entry = findModel(id, this.manifest);
    const sha256 = await checkImport(entry, file, this.options.dataDir, acceptLicense);
    if (isCheckpoint(entry)) await this.convert(entry, file, sha256, false);
    else await installCopy(entry, file, this.options.dataDir);
    this.options.onInstalled();
    // Said to every screen, as a download's end is: the editor offers what the new model does at once.
    const state = this.state(entry);
    this.options.emit('model.state', { id: entry.id, status: state.status, error: null });
    return state;
  }

  private async convert(entry: ModelEntry, file: string, sha256: string, ours: boolean): Promise<void> {
    this.options.emit('model.progress', {
      id: entry.id,
      phase: 'convert',
      received: 0,
      total: null,
      bytesPerSecond: 0,
      etaSeconds: null,
    });
    await this.options.engine.request(
      'installCheckpoint',
      { id: entry.id, file, sha256, dataDir: this.options.dataDir, manifest: this.options.manifest },
      { priority: 'detect' },
    );
    // Our own download is held by the converted folder now; a user's file is never removed.
    if (ours) await fs.promises.rm(file, { force: true });
  }

  private finished(entry: ModelEntry, error: string | null): void {
    this.running.delete(entry.id);
    if (error === null) this.options.onInstalled();
    this.options.emit('model.state', { id: entry.id, status: this.state(entry).status, error });
  }

  /** Stops downloads (their partial files stay for the next start). */
  close(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}
