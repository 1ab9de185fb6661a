import fs from 'node:fs';
import path from 'node:path';
import { CodeFormerRestorer, RUNNABLE_VARIANTS, SIDECAR } from '../engine/codeformer.ts';
import { EngineError } from '../engine/errors.ts';
import { OnnxRestorer, type Restorer } from '../engine/restore.ts';
import type { SessionOptions } from '../engine/sessions.ts';
import { checkCheckpointSize, unreadableCheckpoint } from '../nn/pth/index.ts';
import { convertCheckpoint } from './convert.ts';
import { sha256File } from '../hash.ts';

/** Where a checkpoint's conversion is kept, by its sha256: a renamed or copied file converts once. */
function convertedFolder(sha256: string, dataDir: string): string {
  return path.join(dataDir, 'models', 'converted', sha256);
}

/**
 * Opens what `--restorer` names: a converted CodeFormer folder, an official `.pth` checkpoint (converted on
 * first use and kept in the data folder), or a plain ONNX restorer (the single-graph contract).
 */
export async function openRestorer(
  spec: string,
  dataDir: string,
  options: SessionOptions = {},
): Promise<Restorer> {
  const stat = fs.statSync(spec, { throwIfNoEntry: false });
  if (!stat) throw new EngineError('bad-model', `restorer not found: ${spec}`);
  if (stat.isDirectory()) {
    if (!fs.existsSync(path.join(spec, SIDECAR))) {
      throw new EngineError('bad-model', `${spec} is not a converted CodeFormer model (no ${SIDECAR})`);
    }
    return CodeFormerRestorer.open(spec, options);
  }
  if (spec.toLowerCase().endsWith('.pth')) {
    // Refused before hashing: no need to read gigabytes to say a file is too large to be a checkpoint.
    checkCheckpointSize(spec, stat.size);
    const sha256 = await sha256File(spec).catch((error: unknown) => {
      throw unreadableCheckpoint(spec, error);
    });
    const folder = convertedFolder(sha256, dataDir);
    if (!fs.existsSync(path.join(folder, SIDECAR))) {
      fs.rmSync(folder, { recursive: true, force: true });
      // A checkpoint Heirloom cannot run yet is refused before the conversion's work, not after it.
      convertCheckpoint(spec, folder, { sha256, variants: RUNNABLE_VARIANTS });
    }
    return CodeFormerRestorer.open(folder, options);
  }
  return OnnxRestorer.open(spec, options);
}
