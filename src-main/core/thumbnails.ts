import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import type { Photo } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import { DEFAULT_MAX_PIXELS } from './engine/image.ts';
import { UNREAD } from './import.ts';
import { createLimiter } from './limit.ts';

/*
 * Small JPEGs of the photos for the UI's grids, made in the main process: sharp's pipelines run on libuv's
 * thread pool, so the event loop only waits for them, and a thumbnail is one decode at reduced size (JPEG's
 * shrink-on-load), far too little to be worth a trip through the engine's queue behind a restore.
 */

/** The long side: a grid cell of 256 CSS pixels on a 2× screen. */
export const THUMBNAIL_SIZE = 512;
const QUALITY = 80;

/**
 * libuv's pool has 4 threads by default, shared with every fs call of the main process: a grid of 1,000 photos
 * asks for 1,000 thumbnails at once, and two at a time leaves the other threads to serving files.
 */
const AT_ONCE = 2;

/**
 * A thumbnail's media id: the photo's id (where the original is) and its content hash (what is pictured), so the
 * same content keeps its URL (browsers cache it for good) and changed content gets a new one. A photo not read
 * yet has no hash, and its id names the photo only. A restored photo's thumbnail adds the cache name of its
 * whole-photo render: it pictures the restored photo.
 */
export function thumbnailId(photoId: number, sha256: string, render?: string | null): string {
  if (sha256 === UNREAD) return `thumb/${photoId}`;
  return render ? `thumb/${photoId}-${sha256}-${render}` : `thumb/${photoId}-${sha256}`;
}

/** What the name of a `thumb/` media id says, or undefined when it is not one. */
export function parseThumbnailName(
  name: string,
): { photoId: number; sha256: string; render?: string } | undefined {
  const match = /^([1-9]\d{0,15})(?:-([0-9a-f]{64})(?:-([0-9a-f]{40}))?)?$/.exec(name);
  if (!match) return undefined;
  return { photoId: Number(match[1]), sha256: match[2] ?? UNREAD, ...(match[3] ? { render: match[3] } : {}) };
}

function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(text)) return 'not an image, or a format Heirloom cannot read';
  if (/premature end|truncated|unexpected end|not enough data|end of (file|stream)|read error/i.test(text)) {
    return 'the image file is truncated or damaged';
  }
  return `the image could not be decoded (${(text.split('\n')[0] ?? text).trim()})`;
}

/**
 * The thumbnail of the image in `file`: upright (EXIF orientation), at most THUMBNAIL_SIZE on its long side (never
 * enlarged), sRGB, alpha laid on white, JPEG. The size is read from the header first, so a photo over the
 * engine's limit is refused before any pixel is decoded.
 */
export async function makeThumbnail(file: string): Promise<Buffer> {
  let meta: Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new AppError('IO', `${path.basename(file)}: ${describe(error)}`, { cause: error });
  }
  const { width = 0, height = 0 } = meta;
  if (width * height === 0) throw new AppError('IO', `${path.basename(file)}: the image has no size`);
  if (width * height > DEFAULT_MAX_PIXELS) {
    const mp = (pixels: number) => `${Math.round(pixels / 1e6)} MP`;
    throw new AppError(
      'IO',
      `${path.basename(file)}: the image is ${width}×${height} (${mp(width * height)}); the limit is ${mp(DEFAULT_MAX_PIXELS)}`,
    );
  }
  let image = sharp(file, { limitInputPixels: DEFAULT_MAX_PIXELS, failOn: 'truncated' })
    .autoOrient()
    .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true })
    // JPEG has no alpha: what is transparent shows as the paper of a print would.
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb');
  // toColourspace alone leaves a 16-bit photo's profile unconverted (measured: a Display P3 chart came out up to
  // 115 levels off); converting to an sRGB profile is right for every depth. Untagged photos are sRGB already.
  if (meta.icc) image = image.withIccProfile('srgb');
  try {
    return await image.jpeg({ quality: QUALITY }).toBuffer();
  } catch (error) {
    throw new AppError('IO', `${path.basename(file)}: ${describe(error)}`, { cause: error });
  }
}

/** The original as it is on disk, or why it cannot give a thumbnail of what the library knows of it. */
async function checkOriginal(photo: Photo): Promise<void> {
  const stat = await fs.promises.stat(photo.path).catch((error: NodeJS.ErrnoException) => error);
  if (stat instanceof Error) {
    if (stat.code === 'ENOENT' || stat.code === 'ENOTDIR') {
      throw new AppError('NOT_FOUND', `the original is missing: ${photo.path}`);
    }
    throw new AppError('IO', `the original cannot be read (${stat.code ?? stat.message}): ${photo.path}`);
  }
  if (!stat.isFile()) throw new AppError('NOT_FOUND', `the original is not a file any more: ${photo.path}`);
  // Size and time as recorded when it was read (import.ts's fileFacts): otherwise the pixels are not the ones
  // the content hash names, and a thumbnail cached under that hash would show the wrong picture for good.
  if (stat.size !== photo.bytes || stat.mtimeMs !== photo.mtimeMs) {
    throw new AppError('CONFLICT', `the original was changed since it was imported: ${photo.path}`);
  }
}

/** Whether `file` is in the cache; if so it is marked used now (the cache's pruning goes by modification time). */
async function used(file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  const now = new Date();
  await fs.promises.utimes(file, now, now).catch(() => undefined);
  return true;
}

/**
 * Thumbnails in `<cache>/thumb/`, named by content hash and size: made once, when first asked for, by whichever
 * photo has that content; written under a temporary name and renamed, so a reader never sees half of one.
 */
export class Thumbnails {
  private readonly making = new Map<string, Promise<void>>();
  private readonly limit = createLimiter(AT_ONCE);

  constructor(private readonly cacheDir: string) {}

  file(sha256: string): string {
    return path.join(this.cacheDir, 'thumb', `${sha256}-${THUMBNAIL_SIZE}.jpg`);
  }

  /**
   * The thumbnail file of `photo` as its content `sha256` (the current content when not given), made now when
   * it is not in the cache. NOT_FOUND for a photo not read yet, an original that is gone, or content it no
   * longer has; CONFLICT for an original changed since it was read; IO for one that cannot be decoded.
   */
  async get(photo: Photo, sha256 = photo.sha256): Promise<string> {
    if (sha256 === UNREAD) {
      throw new AppError(
        'NOT_FOUND',
        `${photo.name} is still being imported: its thumbnail comes once it is read`,
      );
    }
    const file = this.file(sha256);
    if (await used(file)) return file;
    if (sha256 !== photo.sha256) {
      throw new AppError('NOT_FOUND', `${photo.name} has other content now: ask for its new thumbnail`);
    }
    let made = this.making.get(file);
    if (!made) {
      made = this.limit(() => this.make(photo, file)).finally(() => this.making.delete(file));
      this.making.set(file, made);
    }
    await made;
    return file;
  }

  /**
   * The thumbnail of a whole-photo render (`renderFile`, named `render` in the cache), or undefined when that
   * render is no longer in the cache (pruned): the caller shows the original's instead.
   */
  async rendered(render: string, renderFile: string): Promise<string | undefined> {
    const file = path.join(this.cacheDir, 'thumb', `r-${render}-${THUMBNAIL_SIZE}.jpg`);
    if (await used(file)) return file;
    if (!fs.existsSync(renderFile)) return undefined;
    let made = this.making.get(file);
    if (!made) {
      made = this.limit(async () => this.write(file, await makeThumbnail(renderFile))).finally(() =>
        this.making.delete(file),
      );
      this.making.set(file, made);
    }
    await made;
    return file;
  }

  private async make(photo: Photo, file: string): Promise<void> {
    await checkOriginal(photo);
    const jpeg = await makeThumbnail(photo.path);
    // Edited while it was read: the pixels may be of neither content.
    await checkOriginal(photo);
    await this.write(file, jpeg);
  }

  private async write(file: string, jpeg: Buffer): Promise<void> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.promises.writeFile(temp, jpeg);
      await fs.promises.rename(temp, file);
    } finally {
      await fs.promises.rm(temp, { force: true });
    }
  }
}
