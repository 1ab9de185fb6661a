import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ExternalRef } from './onnx/graph.ts';
import { readCheckpoint, readCheckpointBytes, stateDictOf, type CheckpointTensor } from './pth/index.ts';

/*
 * What every conversion of an official checkpoint into a folder of ours shares (CodeFormer, ParseNet,
 * RetinaFace, Real-ESRGAN): the output refused in one line before any work, the state dict read and checked
 * before anything is written, and the folder appearing whole or not at all.
 */

export class ConversionError extends Error {
  override name = 'ConversionError';
}

/** The checkpoint a folder was converted from, as its sidecar records it. */
export interface ConvertedSource {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** The output must be new or an empty folder, and reachable: said in one line before any work is done. */
function refuseUnusableOutput(outDir: string): void {
  let usable: boolean;
  try {
    const existing = fs.statSync(outDir, { throwIfNoEntry: false });
    usable = !existing || (existing.isDirectory() && fs.readdirSync(outDir).length === 0);
  } catch (error) {
    throw new ConversionError(`cannot write ${outDir}: ${(error as Error).message}`, { cause: error });
  }
  if (!usable) throw new ConversionError(`${outDir} already exists and is not an empty folder`);
}

/**
 * Converts `checkpoint` into `outDir` (new or empty): `check` reads the state dict (what it throws becomes one
 * line that names the file) and returns what `write` needs to know of it; `write` fills a temporary sibling
 * folder, renamed into place at the end.
 */
export function convertIntoFolder<C, S>(
  checkpoint: string,
  outDir: string,
  sha256: string | undefined,
  check: (stateDict: Map<string, CheckpointTensor>) => C,
  write: (dir: string, stateDict: Map<string, CheckpointTensor>, source: ConvertedSource, checked: C) => S,
): S {
  const bytes = readCheckpointBytes(checkpoint);
  refuseUnusableOutput(outDir);
  let stateDict: Map<string, CheckpointTensor>;
  let checked: C;
  try {
    stateDict = stateDictOf(readCheckpoint(bytes));
    checked = check(stateDict);
  } catch (error) {
    // One line that names the file: what is wrong with it, from the reader or from the network's checks.
    throw new ConversionError(`${path.basename(checkpoint)}: ${(error as Error).message}`, { cause: error });
  }
  const source = {
    file: path.basename(checkpoint),
    bytes: bytes.byteLength,
    sha256: sha256 ?? createHash('sha256').update(bytes).digest('hex'),
  };
  const parent = path.dirname(path.resolve(outDir));
  const temp = path.join(parent, `.${path.basename(outDir)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    fs.mkdirSync(parent, { recursive: true });
    fs.mkdirSync(temp);
    const result = write(temp, stateDict, source, checked);
    if (fs.existsSync(outDir)) fs.rmdirSync(outDir);
    fs.renameSync(temp, outDir);
    return result;
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    // A full disk or a read-only folder is the output's fault, not the checkpoint's; say so in one line.
    if (error instanceof Error && 'syscall' in error) {
      throw new ConversionError(`cannot write ${outDir}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Writes the weights' float32 values back to back in `order` (the official state-dict order), one tensor at a
 * time — a contiguous float32 tensor goes straight from the checkpoint's bytes to the file — and returns where
 * each lies, as a lookup that refuses a key it was not given. Every graph of a model references this one file,
 * so the weights are stored once.
 */
export function writeWeightsFile(
  file: string,
  order: readonly string[],
  tensorOf: (key: string) => Float32Array,
): Map<string, ExternalRef> {
  const location = path.basename(file);
  const refs = new Map<string, ExternalRef>();
  const fd = fs.openSync(file, 'wx');
  try {
    let offset = 0;
    for (const key of order) {
      const data = tensorOf(key);
      fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      refs.set(key, { location, offset, length: data.byteLength });
      offset += data.byteLength;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return refs;
}

/** Where a weight lies in the weights file, for the graph builders; a key not written is our bug, said. */
export function weightRefs(refs: ReadonlyMap<string, ExternalRef>): (key: string) => ExternalRef {
  return (key) => {
    const ref = refs.get(key);
    if (!ref) throw new ConversionError(`no weights for ${key}`);
    return ref;
  };
}

/** The sidecar, written once (never over another) as pretty JSON. */
export function writeSidecar(dir: string, name: string, sidecar: unknown): void {
  fs.writeFileSync(path.join(dir, name), `${JSON.stringify(sidecar, null, 2)}\n`, { flag: 'wx' });
}
