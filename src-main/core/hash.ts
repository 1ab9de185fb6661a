import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** A file's sha256 (hex), read as a stream: a photo or a model is identified by its content. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
