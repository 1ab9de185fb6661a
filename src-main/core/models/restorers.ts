import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CodeFormerRestorer, SIDECAR } from '../engine/codeformer.ts';
import { EngineError } from '../engine/errors.ts';
import { OnnxRestorer, type Restorer } from '../engine/restore.ts';
import type { SessionOptions } from '../engine/sessions.ts';
import { convertCheckpoint } from './convert.ts';

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where a checkpoint's conversion is kept: by content, so a renamed or copied file converts once. */
export async function convertedFolderFor(checkpoint: string, dataDir: string): Promise<string> {
  return path.join(dataDir, 'models', 'converted', await sha256Of(checkpoint));
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
    const folder = await convertedFolderFor(spec, dataDir);
    if (!fs.existsSync(path.join(folder, SIDECAR))) {
      fs.rmSync(folder, { recursive: true, force: true });
      convertCheckpoint(spec, folder);
    }
    return CodeFormerRestorer.open(folder, options);
  }
  return OnnxRestorer.open(spec, options);
}
