import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../contract/errors.ts';
import { sha256File } from '../hash.ts';
import { CheckpointError } from '../nn/pth/index.ts';
import { ConversionError } from './convert.ts';
import { convertedSource, converterFor } from './converters.ts';
import { downloadModel } from './download.ts';
import type { DownloadProgress } from './transfer-watch.ts';
import { readManifest, type ModelEntry } from './manifest.ts';

/**
 * The models installed in the data folder (`<data>/models`), by the manifest's ids:
 * - a detector is its ONNX file, under the manifest's file name;
 * - a CodeFormer checkpoint is converted once it arrives (`convert`), and the converted folder, named by the
 *   id, is what restores use; the downloaded checkpoint is then removed (the folder holds the same weights,
 *   and its sidecar the checkpoint's sha256, so the install can still be verified against the manifest).
 */

export type ModelStatus = 'missing' | 'ready' | 'unverified' | 'corrupt';

export interface InstalledModel {
  readonly id: string;
  readonly task: string;
  readonly status: ModelStatus;
  /** Why it is not ready, or how it was verified, in words. */
  readonly why: string;
  readonly license: string;
  /** The download's size, when published. */
  readonly bytes: number | null;
  /** Where restores read it. */
  readonly path: string;
}

/** Licences that must be accepted before a model is downloaded or imported (CodeFormer's: non-commercial). */
export function needsAcceptance(entry: ModelEntry): boolean {
  return /non-commercial/i.test(entry.license);
}

export const isCheckpoint = (entry: ModelEntry): boolean => entry.file.endsWith('.pth');

export function modelsDir(dataDir: string): string {
  return path.join(dataDir, 'models');
}

/** Where restores read the model: the ONNX file, or the converted folder of a checkpoint. */
export function installedPath(entry: ModelEntry, dataDir: string): string {
  return path.join(modelsDir(dataDir), isCheckpoint(entry) ? entry.id : entry.file);
}

export function findModel(id: string, manifest: readonly ModelEntry[] = readManifest()): ModelEntry {
  const entry = manifest.find((m) => m.id === id);
  if (!entry) {
    throw new AppError('NOT_FOUND', `no model "${id}" (there are: ${manifest.map((m) => m.id).join(', ')})`);
  }
  return entry;
}

/** What is installed, from the files alone (fast: sizes and sidecars; `verifyModel` reads every byte). */
export function modelStatus(entry: ModelEntry, dataDir: string): InstalledModel {
  const where = installedPath(entry, dataDir);
  const base = { id: entry.id, task: entry.task, license: entry.license, bytes: entry.bytes, path: where };
  if (!fs.existsSync(where)) return { ...base, status: 'missing', why: 'not installed' };
  if (isCheckpoint(entry)) {
    const converter = converterFor(entry.task);
    const source = convertedSource(where, converter)?.sha256;
    if (source === undefined) {
      return {
        ...base,
        status: 'corrupt',
        why: `${where} has no readable ${converter.sidecar}: install it again`,
      };
    }
    if (entry.sha256 === null)
      return { ...base, status: 'unverified', why: `no published sha256; installed ${source}` };
    return source === entry.sha256
      ? { ...base, status: 'ready', why: 'converted from the published checkpoint' }
      : {
          ...base,
          status: 'unverified',
          why: `converted from a checkpoint with sha256 ${source}, not the published one`,
        };
  }
  const size = fs.statSync(where).size;
  if (entry.bytes !== null && size !== entry.bytes) {
    return { ...base, status: 'corrupt', why: `${size} bytes, not ${entry.bytes}: install it again` };
  }
  return { ...base, status: 'ready', why: 'size as published (verify reads every byte)' };
}

/** Reads every byte of the installed model and compares it with the manifest. */
export async function verifyModel(entry: ModelEntry, dataDir: string): Promise<InstalledModel> {
  const quick = modelStatus(entry, dataDir);
  if (quick.status === 'missing' || isCheckpoint(entry) || entry.sha256 === null) return quick;
  const sha256 = await sha256File(quick.path);
  return sha256 === entry.sha256
    ? { ...quick, status: 'ready', why: 'sha256 as published' }
    : {
        ...quick,
        status: 'corrupt',
        why: `sha256 ${sha256}, not the published ${entry.sha256}: install it again`,
      };
}

export interface InstallOptions {
  readonly mirror?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** The user accepted the model's licence (required for the non-commercial ones). */
  readonly licenseAccepted: boolean;
}

/** Where the licences a user accepted are recorded: id → the licence's words and when. */
export function acceptancesFile(dataDir: string): string {
  return path.join(modelsDir(dataDir), 'licences-accepted.json');
}

export function acceptedLicences(dataDir: string): Record<string, { license: string; acceptedAt: string }> {
  try {
    return JSON.parse(fs.readFileSync(acceptancesFile(dataDir), 'utf8')) as Record<
      string,
      { license: string; acceptedAt: string }
    >;
  } catch {
    return {};
  }
}

/** Refuses a model whose licence needs accepting unless it was; records the acceptance (the licence's words, when). */
export function requireAcceptance(entry: ModelEntry, accepted: boolean, dataDir: string): void {
  if (!needsAcceptance(entry)) return;
  if (!accepted) {
    throw new AppError(
      'INVALID_INPUT',
      `${entry.id} is under the ${entry.license}: it may be used for non-commercial purposes only. Accept the licence to install it.`,
    );
  }
  const all = acceptedLicences(dataDir);
  all[entry.id] = { license: entry.license, acceptedAt: new Date().toISOString() };
  fs.mkdirSync(modelsDir(dataDir), { recursive: true });
  fs.writeFileSync(`${acceptancesFile(dataDir)}.tmp`, `${JSON.stringify(all, null, 2)}\n`);
  fs.renameSync(`${acceptancesFile(dataDir)}.tmp`, acceptancesFile(dataDir));
}

/** A verified checkpoint converted into a new folder, which replaces the installed one only once it is whole. */
export function convertInto(entry: ModelEntry, file: string, dataDir: string, sha256: string): void {
  const target = installedPath(entry, dataDir);
  const fresh = `${target}.new`;
  fs.rmSync(fresh, { recursive: true, force: true });
  // Checks every tensor's name and shape: a file that is not the network the entry names is refused here, and
  // the installed model stays as it was.
  try {
    converterFor(entry.task).convert(file, fresh, sha256);
  } catch (error) {
    fs.rmSync(fresh, { recursive: true, force: true });
    if (error instanceof CheckpointError || error instanceof ConversionError) {
      throw new AppError('MODEL_CORRUPT', `${entry.id}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  const old = `${target}.old`;
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(target)) fs.renameSync(target, old);
  fs.renameSync(fresh, target);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Downloads the model (from `mirror/<file>` when a mirror is given), verifies it, installs it. */
export async function downloadAndInstall(
  entry: ModelEntry,
  dataDir: string,
  url: string,
  options: InstallOptions,
): Promise<InstalledModel> {
  requireAcceptance(entry, options.licenseAccepted, dataDir);
  fs.mkdirSync(modelsDir(dataDir), { recursive: true });
  const dest = path.join(modelsDir(dataDir), entry.file);
  const result = await downloadModel({
    url,
    dest,
    bytes: entry.bytes,
    sha256: entry.sha256,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (isCheckpoint(entry)) {
    convertInto(entry, dest, dataDir, result.sha256);
    // Our own download, now held by the converted folder; a user's imported file is never removed.
    fs.rmSync(dest, { force: true });
  }
  return modelStatus(entry, dataDir);
}

/**
 * What importing `file` as `entry` checks before anything is installed: the licence accepted, the file
 * readable, and an ONNX model's sha256 the published one (a checkpoint with another hash is accepted only if
 * its conversion checks out, see `importModel`). Returns the file's sha256.
 */
export async function checkImport(
  entry: ModelEntry,
  file: string,
  dataDir: string,
  licenseAccepted: boolean,
): Promise<string> {
  requireAcceptance(entry, licenseAccepted, dataDir);
  const sha256 = await sha256File(file).catch((error: NodeJS.ErrnoException) => {
    throw new AppError('IO', `cannot read ${file} (${error.code ?? error.message})`);
  });
  if (!isCheckpoint(entry) && entry.sha256 !== null && sha256 !== entry.sha256) {
    throw new AppError(
      'MODEL_CORRUPT',
      `${file} is not ${entry.id}: sha256 ${sha256}, expected ${entry.sha256}`,
    );
  }
  fs.mkdirSync(modelsDir(dataDir), { recursive: true });
  return sha256;
}

/** An ONNX model copied into place whole (a copy under a temporary name, then renamed). */
export async function installCopy(entry: ModelEntry, file: string, dataDir: string): Promise<void> {
  const dest = installedPath(entry, dataDir);
  await fs.promises.copyFile(file, `${dest}.partial`);
  await fs.promises.rename(`${dest}.partial`, dest);
}

/**
 * Installs a file the user already has. A file with the published sha256 is the model; one with another hash is
 * accepted only if it is what the model must be — a CodeFormer checkpoint whose every tensor checks out
 * (conversion refuses anything else) — and is then "unverified". An ONNX model with another hash is refused.
 */
export async function importModel(
  entry: ModelEntry,
  file: string,
  dataDir: string,
  options: Pick<InstallOptions, 'licenseAccepted'>,
): Promise<InstalledModel> {
  const sha256 = await checkImport(entry, file, dataDir, options.licenseAccepted);
  if (isCheckpoint(entry)) convertInto(entry, file, dataDir, sha256);
  else await installCopy(entry, file, dataDir);
  return modelStatus(entry, dataDir);
}
