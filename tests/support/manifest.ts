import { createHash } from 'node:crypto';

/** A model manifest's entry for `bytes` as a test serves or imports them: their size and sha256, no real source. */
export function manifestEntry(id: string, task: string, file: string, bytes: Buffer, license: string) {
  return {
    id,
    task,
    file,
    source: `https://example.invalid/${file}`,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    license,
    contract: 'test',
  };
}
