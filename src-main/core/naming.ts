import fs from 'node:fs/promises';
import path from 'node:path';

/** The formats Heirloom writes, and their usual extension. */
export type WrittenFormat = 'jpeg' | 'png' | 'webp' | 'tiff';
export const EXTENSION: Record<WrittenFormat, string> = {
  jpeg: '.jpg',
  png: '.png',
  webp: '.webp',
  tiff: '.tif',
};

export const DEFAULT_PATTERN = '{name}_restored';

/**
 * The format a photo is exported in when the user keeps "same as original": the format its bytes are in (a
 * PNG named .jpg is a PNG), PNG for formats Heirloom reads but does not write (GIF). The engine decides the
 * same from the decoded file (image.ts `sourceEncoding`).
 */
export async function originalFormat(file: string): Promise<WrittenFormat> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head[0] === 0xff && head[1] === 0xd8) return 'jpeg';
    if (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
    const tiff = head.toString('latin1', 0, 4);
    if (tiff === 'II*\0' || tiff === 'MM\0*') return 'tiff';
    return 'png';
  } finally {
    await handle.close();
  }
}

/**
 * A file name stem from the user's pattern: `{name}` is the photo's name without its extension, `{album}`
 * the album's. Characters no file system takes (and path separators, so a name can never leave the folder)
 * become "_"; the result is kept under 180 characters, leaving room for a "-12" and an extension.
 */
export function outputStem(pattern: string, values: { name: string; album: string }): string {
  const filled = pattern.replace(/\{(name|album)\}/g, (_, key: 'name' | 'album') => values[key]);
  const safe = filled
    .replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '')
    .slice(0, 180);
  return safe === '' ? 'photo' : safe;
}

/** The photo's own name without extension, for `{name}`. */
export function photoStem(file: string): string {
  return path.basename(file, path.extname(file));
}

/** What names an export's file: the user's choices, as the job keeps them. */
export interface NameChoices {
  readonly format: 'original' | WrittenFormat;
  readonly pattern: string;
  readonly album: string;
}

/**
 * The name a photo is exported under when it is free: the pattern's stem and the written format's extension
 * ("Keep both" then adds -1, -2… to a taken one: publish.ts). "Same as the original" reads the original's first
 * bytes; without them (`guess`, for a plan made before the export: the original may be missing) its extension
 * says.
 */
export async function exportName(
  file: string,
  choices: NameChoices,
  options: { guess?: boolean } = {},
): Promise<{ stem: string; ext: string }> {
  const format =
    choices.format !== 'original'
      ? choices.format
      : await originalFormat(file).catch((error: unknown) => {
          if (options.guess) return formatByExtension(file);
          throw error;
        });
  return {
    stem: outputStem(choices.pattern, { name: photoStem(file), album: choices.album }),
    ext: EXTENSION[format],
  };
}

/** The format a file's extension says, as `originalFormat` would answer for it (PNG for the rest). */
function formatByExtension(file: string): WrittenFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.webp') return 'webp';
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  return 'png';
}
