import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodePhoto, type Raster } from '../../src-main/core/engine/image.ts';
import {
  encodeExport,
  readSourceMetadata,
  type Provenance,
  type SourceMetadata,
} from '../../src-main/core/engine/metadata.ts';
import { ADOBE_RGB, sharpProfile } from '../support/icc-profile.ts';
import {
  buildExif,
  grayProfile,
  iptcRecords,
  jfifPayload,
  jpegSegments,
  photoshopPayload,
  pngChunks,
  readExifTags,
  withSegments,
  xmpPacket,
} from '../support/metadata-files.ts';
import { photo, SOLVAY } from '../support/paths.ts';
import { decodePng, encodePng, pngChunk } from '../support/png.ts';
import { tempDir } from '../support/temp.ts';

const PROVENANCE: Provenance = {
  version: '0.1.0',
  model: { name: 'CodeFormer', sha256: '1b2c'.repeat(16) },
  faces: [
    { number: 1, fidelity: 0.5 },
    { number: 2, fidelity: 0.7 },
  ],
  date: '2025-03-04T05:06:07.000Z',
};
const HEIRLOOM_NS = 'https://heirloom.app/ns/1.0/';
const TAG = {
  make: 271,
  model: 272,
  orientation: 274,
  xResolution: 282,
  dateTimeOriginal: 36867,
  userComment: 37510,
};
const CAPTION = 'Grandma at the lake, 1962';
const IPTC = iptcRecords([
  [2, 120, CAPTION],
  [2, 25, 'family'],
]);
const XMP_APP1 = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const SOURCE_XMP = xmpPacket(
  '<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" ' +
    'xmlns:dc="http://purl.org/dc/elements/1.1/" tiff:Orientation="6">' +
    '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Grandma</rdf:li></rdf:Alt></dc:title></rdf:Description>',
);

/** A real photo, small: 8-bit RGB as stored. */
async function smallPhoto(width = 240): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(photo('CodeFormer/inputs/whole_imgs/00.jpg'))
    .resize(width)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function app(marker: number, ...parts: (string | Uint8Array)[]): { marker: number; payload: Buffer } {
  return {
    marker,
    payload: Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))),
  };
}

/** A camera's JPEG: stored sideways with Orientation 6, EXIF (with a thumbnail), XMP, IPTC and 300 DPI. */
async function cameraJpeg(
  little: boolean,
  replace: { exif?: Uint8Array; xmp?: Uint8Array } = {},
): Promise<Buffer> {
  const { data, width, height } = await smallPhoto();
  const jpeg = await sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
  const exif =
    replace.exif ??
    buildExif({
      little,
      ifd0: {
        [TAG.make]: { ascii: 'Canon' },
        [TAG.model]: { ascii: 'Canon EOS 5D' },
        [TAG.orientation]: { short: 6 },
        [TAG.xResolution]: { rational: [300, 1] },
        283: { rational: [300, 1] },
        296: { short: 2 },
      },
      exif: {
        [TAG.dateTimeOriginal]: { ascii: '1962:07:14 15:30:00' },
        40962: { long: width },
        40963: { long: height },
      },
      thumbnail: Buffer.alloc(64, 0xd8),
    });
  return withSegments(jpeg, [
    app(0xe0, jfifPayload(300)),
    app(0xe1, 'Exif\0\0', exif),
    app(0xe1, XMP_APP1, replace.xmp ?? Buffer.from(SOURCE_XMP, 'utf8')),
    app(0xed, photoshopPayload(IPTC)),
  ]);
}

async function exported(
  file: Buffer,
  format: 'jpeg' | 'png' | 'webp' | 'tiff',
  provenance: Provenance | null = PROVENANCE,
): Promise<{ out: Uint8Array; pixels: Raster; source: SourceMetadata }> {
  const { pixels } = await decodePhoto(file);
  const source = await readSourceMetadata(file);
  return { out: await encodeExport(pixels, { format }, source, provenance), pixels, source };
}

/** The EXIF of a file as sharp hands it over, read by the test's own reader. */
async function exifOf(file: Uint8Array): Promise<ReturnType<typeof readExifTags>> {
  const { exif } = await sharp(file).metadata();
  assert.ok(exif, 'the export has EXIF');
  return readExifTags(exif.subarray(exif.toString('latin1', 0, 4) === 'Exif' ? 6 : 0));
}

function psnr(a: ArrayLike<number>, b: ArrayLike<number>, max = 255): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((max * max) / (sum / a.length));
}

async function assertPixels(out: Uint8Array, pixels: Raster, minPsnr: number): Promise<void> {
  const back = (await decodePhoto(out)).pixels;
  assert.deepEqual([back.width, back.height, back.depth], [pixels.width, pixels.height, pixels.depth]);
  if (minPsnr === Infinity) assert.deepEqual(back.data, pixels.data);
  else assert.ok(psnr(back.data, pixels.data) >= minPsnr, `PSNR ${psnr(back.data, pixels.data)} dB`);
}

/** The camera's EXIF, upright: Orientation 1 (or, `orientation` 'absent', no tag, which means 1). */
function assertCameraExif(exif: ReturnType<typeof readExifTags>, orientation: 1 | 'absent' = 1): void {
  assert.equal(exif.ifd0.tags.get(TAG.make), 'Canon');
  assert.equal(exif.ifd0.tags.get(TAG.model), 'Canon EOS 5D');
  assert.equal(exif.exif?.tags.get(TAG.dateTimeOriginal), '1962:07:14 15:30:00');
  assert.equal(exif.ifd0.tags.get(TAG.orientation), orientation === 1 ? 1 : undefined);
  assert.equal(exif.ifd0.next, 0, 'the unrestored thumbnail is gone');
}

describe('exports keep the original photo’s metadata', () => {
  for (const little of [true, false]) {
    test(`a camera JPEG (EXIF ${little ? 'little' : 'big'}-endian, Orientation 6) exported as JPEG keeps EXIF, XMP, IPTC and 300 DPI, upright`, async () => {
      const { out, pixels } = await exported(await cameraJpeg(little), 'jpeg');
      const meta = await sharp(out).metadata();
      assert.deepEqual([meta.orientation, meta.density], [1, 300]);
      assert.deepEqual([meta.width, meta.height], [pixels.width, pixels.height]);
      assert.ok(pixels.height > pixels.width, 'stored sideways, exported upright');
      assertCameraExif(await exifOf(out));
      assert.equal((await exifOf(out)).ifd0.tags.get(TAG.xResolution), 300);
      assert.match(meta.xmpAsString ?? '', /tiff:Orientation="1"/);
      assert.match(meta.xmpAsString ?? '', /<rdf:li xml:lang="x-default">Grandma<\/rdf:li>/);
      const app13 = jpegSegments(out).find((s) => s.marker === 0xed);
      assert.ok(app13 && Buffer.from(app13.payload).includes(IPTC), 'the IPTC records, as they were');
      await assertPixels(out, pixels, 38);
    });
  }

  test('a camera JPEG exported as PNG keeps EXIF (eXIf), XMP, 300 DPI (pHYs) and IPTC, pixels exact', async () => {
    const { out, pixels } = await exported(await cameraJpeg(false), 'png');
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.orientation, meta.density], [1, 300]);
    assertCameraExif(await exifOf(out));
    assert.match(meta.xmpAsString ?? '', /Grandma/);
    const raw = pngChunks(out).find((c) => c.body.toString('latin1').startsWith('Raw profile type iptc\0'));
    assert.ok(raw, 'IPTC as ImageMagick’s raw profile');
    const hex = zlib.inflateSync(raw.body.subarray('Raw profile type iptc'.length + 2)).toString('latin1');
    assert.ok(Buffer.from(hex.split('\n').slice(3).join(''), 'hex').equals(IPTC));
    await assertPixels(out, pixels, Infinity);
  });

  test('a camera JPEG exported as WebP keeps EXIF (with its 300 DPI) and XMP; WebP has no place for IPTC', async () => {
    const { out, pixels } = await exported(await cameraJpeg(true), 'webp');
    const meta = await sharp(out).metadata();
    assert.equal(meta.orientation, 1);
    const exif = await exifOf(out);
    assertCameraExif(exif);
    assert.equal(exif.ifd0.tags.get(TAG.xResolution), 300);
    assert.match(meta.xmpAsString ?? '', /Grandma/);
    await assertPixels(out, pixels, 36);
  });

  test('a camera JPEG exported as TIFF carries its EXIF in the TIFF’s own directories, with XMP, IPTC and 300 DPI', async () => {
    const { out, pixels } = await exported(await cameraJpeg(false), 'tiff');
    const meta = await sharp(out).metadata();
    assert.equal(meta.density, 300);
    const tiff = readExifTags(out);
    assert.equal(tiff.ifd0.tags.get(TAG.make), 'Canon');
    assert.equal(tiff.ifd0.tags.get(TAG.orientation), 1);
    assert.equal(tiff.exif?.tags.get(TAG.dateTimeOriginal), '1962:07:14 15:30:00');
    assert.equal(tiff.exif?.tags.get(40962), pixels.width, 'the pixel dimensions of the export');
    assert.match(meta.xmpAsString ?? '', /Grandma/);
    assert.ok(meta.iptc?.subarray(0, IPTC.length).equals(IPTC));
    await assertPixels(out, pixels, Infinity);
    // And back: the TIFF as a source gives its EXIF to a JPEG (the TIFF's orientation is its own, not EXIF's).
    const again = await exported(Buffer.from(out), 'jpeg');
    assertCameraExif(await exifOf(again.out), 'absent');
  });

  test('a PNG’s density reaches a WebP export through EXIF, the only place WebP has for one', async () => {
    const { data, width, height } = await smallPhoto(64);
    const png = encodePng({ width, height, channels: 3, depth: 8, data });
    const pHYs = Buffer.from([0, 0, 0x2e, 0x23, 0, 0, 0x2e, 0x23, 1]); // 11811 pixels per metre: 300 DPI
    const { out } = await exported(
      Buffer.concat([png.subarray(0, 33), pngChunk('pHYs', pHYs), png.subarray(33)]),
      'webp',
    );
    const exif = await exifOf(out);
    assert.equal(exif.ifd0.tags.get(TAG.xResolution), 300);
    assert.equal(exif.ifd0.tags.get(296), 2, 'in inches');
  });

  test('a malformed EXIF block is dropped and the rest kept', async () => {
    const broken = buildExif({ little: true, ifd0: { [TAG.make]: { ascii: 'Canon' } } });
    broken.writeUInt32LE(0x7fffffff, 4); // IFD0 far past the end
    const { out } = await exported(await cameraJpeg(true, { exif: broken }), 'jpeg');
    const meta = await sharp(out).metadata();
    assert.equal(meta.exif, undefined);
    assert.equal(meta.density, 300);
    assert.match(meta.xmpAsString ?? '', /Grandma/);
    assert.ok(jpegSegments(out).some((s) => s.marker === 0xed));
  });

  test('a malformed XMP packet is dropped and the rest kept', async () => {
    const truncated = Buffer.from(SOURCE_XMP.slice(0, SOURCE_XMP.indexOf('</rdf:Description>')));
    const { out } = await exported(await cameraJpeg(true, { xmp: truncated }), 'jpeg', null);
    assert.equal((await sharp(out).metadata()).xmp, undefined);
    assertCameraExif(await exifOf(out));
  });

  test('damaged metadata never stops an export, and the export reads back', async () => {
    // A seeded generator (mulberry32), so a failure names a case that can be run again.
    let seed = 20250304;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const jpeg = await cameraJpeg(false);
    // Bytes inside the metadata segments' payloads: the JPEG's structure stays whole.
    const payloads = jpegSegments(jpeg)
      .filter((s) => s.marker === 0xe1 || s.marker === 0xed)
      .map((s) => [s.payload.byteOffset - jpeg.byteOffset, s.payload.length] as const);
    const { data, width, height } = await smallPhoto(32);
    const png = encodePng({ width, height, channels: 3, depth: 8, data });
    const formats = ['jpeg', 'png', 'webp', 'tiff'] as const;
    let ran = 0;
    for (let n = 0; n < 120; n++) {
      let file: Buffer;
      if (n % 3 < 2) {
        file = Buffer.from(jpeg);
        for (let k = 0; k < 1 + (n % 5); k++) {
          const [start, length] = payloads[Math.floor(random() * payloads.length)]!;
          file[start + Math.floor(random() * length)] = Math.floor(random() * 256);
        }
      } else {
        // A chunk of random bytes under a metadata chunk's type, its CRC right.
        const type = ['eXIf', 'iTXt', 'zTXt', 'tEXt', 'iCCP'][n % 5]!;
        const body = Buffer.from(
          Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)),
        );
        if (n % 2) body.write('Raw profile type iptc\0', 0, 'latin1');
        file = Buffer.concat([png.subarray(0, 33), pngChunk(type, body), png.subarray(33)]);
      }
      let pixels: Raster;
      try {
        pixels = (await decodePhoto(file)).pixels;
      } catch {
        continue; // a photo that cannot be opened is never exported
      }
      const format = formats[n % 4]!;
      const source = await readSourceMetadata(file);
      const out = await encodeExport(pixels, { format }, source, PROVENANCE);
      assert.equal((await decodePhoto(out)).pixels.width, pixels.width, `case ${n} (${format})`);
      ran++;
    }
    assert.ok(ran >= 90, `${ran} of 120 damaged photos could be opened`);
  });
});

describe('provenance', () => {
  test('on: the XMP names Heirloom’s version, the model and its sha256, each face’s fidelity and the date, beside the source’s XMP', async () => {
    const { out } = await exported(await cameraJpeg(true), 'jpeg');
    const xmp = (await sharp(out).metadata()).xmpAsString ?? '';
    assert.ok(xmp.includes(`xmlns:heirloom="${HEIRLOOM_NS}"`));
    assert.match(xmp, /heirloom:Version="0\.1\.0"/);
    assert.match(xmp, /heirloom:ModelName="CodeFormer"/);
    assert.ok(xmp.includes(`heirloom:ModelSHA256="${PROVENANCE.model.sha256}"`));
    assert.match(xmp, /heirloom:Date="2025-03-04T05:06:07.000Z"/);
    const faces = [...xmp.matchAll(/<heirloom:Number>(\d+)<\/heirloom:Number><heirloom:Fidelity>([\d.]+)</g)];
    assert.deepEqual(
      faces.map((m) => [Number(m[1]), Number(m[2])]),
      [
        [1, 0.5],
        [2, 0.7],
      ],
    );
    assert.match(xmp, /Grandma/);
  });

  test('off: no Heirloom namespace, and the source’s XMP as it was but for the orientation', async () => {
    const { out } = await exported(await cameraJpeg(true), 'png', null);
    const xmp = (await sharp(out).metadata()).xmpAsString;
    assert.equal(xmp, SOURCE_XMP.replace('tiff:Orientation="6"', 'tiff:Orientation="1"'));
  });

  test('a photo exported twice keeps one provenance: the latest', async () => {
    const first = await exported(await cameraJpeg(true), 'jpeg');
    const later = { ...PROVENANCE, version: '0.2.0' };
    const { out } = await exported(Buffer.from(first.out), 'jpeg', later);
    const xmp = (await sharp(out).metadata()).xmpAsString ?? '';
    assert.deepEqual(
      [...xmp.matchAll(/heirloom:Version="([^"]*)"/g)].map((m) => m[1]),
      ['0.2.0'],
    );
    assert.equal([...xmp.matchAll(/<heirloom:Faces>/g)].length, 1);
  });
});

describe('AI images’ text chunks', () => {
  const PARAMETERS =
    'a portrait of an old woman, film grain\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M, CFG scale: 7, Seed: 1234';

  /** A PNG as Stable Diffusion web UIs write it: `parameters` in tEXt, here also an iTXt and a zTXt after IDAT. */
  async function aiPng(): Promise<{ file: Buffer; chunks: Buffer[] }> {
    const { data, width, height } = await smallPhoto(128);
    const png = encodePng({ width, height, channels: 3, depth: 8, data });
    const chunks = [
      pngChunk('tEXt', Buffer.from(`parameters\0${PARAMETERS}`, 'latin1')),
      pngChunk(
        'iTXt',
        Buffer.concat([Buffer.from('Title\0\0\0fr\0Titre\0', 'latin1'), Buffer.from('Grand-mère ✓')]),
      ),
      pngChunk('zTXt', Buffer.concat([Buffer.from('Software\0\0', 'latin1'), zlib.deflateSync('ComfyUI')])),
    ];
    const ihdrEnd = 8 + 25;
    const iend = png.length - 12;
    const file = Buffer.concat([
      png.subarray(0, ihdrEnd),
      chunks[0]!,
      png.subarray(ihdrEnd, iend),
      ...chunks.slice(1),
      png.subarray(iend),
    ]);
    return { file, chunks };
  }

  test('a PNG’s tEXt, iTXt and zTXt chunks come back in a PNG export, byte for byte', async () => {
    const { file, chunks } = await aiPng();
    const { out, pixels } = await exported(file, 'png', null);
    const stored = pngChunks(out).filter((c) => ['tEXt', 'iTXt', 'zTXt'].includes(c.type));
    assert.deepEqual(
      stored.map((c) => c.body),
      chunks.map((c) => c.subarray(8, c.length - 4)),
    );
    assert.equal(decodePng(out).chunks.indexOf('tEXt') < decodePng(out).chunks.indexOf('IDAT'), true);
    await assertPixels(out, pixels, Infinity);
  });

  test('a PNG’s parameters reach a JPEG export as the EXIF UserComment (where SD web UIs read them) and in XMP', async () => {
    const { file } = await aiPng();
    const { out } = await exported(file, 'jpeg', null);
    const comment = (await exifOf(out)).exif?.tags.get(TAG.userComment);
    assert.ok(Buffer.isBuffer(comment));
    assert.equal(comment.toString('latin1', 0, 8), 'UNICODE\0');
    assert.equal(Buffer.from(comment.subarray(8)).swap16().toString('utf16le'), PARAMETERS);
    const xmp = (await sharp(out).metadata()).xmpAsString ?? '';
    assert.ok(xmp.includes('<pngtext:Keyword>parameters</pngtext:Keyword>'));
    assert.ok(xmp.includes(PARAMETERS.replace(/>/g, '&gt;')));
    assert.ok(
      xmp.includes('<pngtext:Language>fr</pngtext:Language><pngtext:Text>Grand-mère ✓</pngtext:Text>'),
    );
  });

  test('text too large for a JPEG’s XMP segment goes on in ExtendedXMP segments', async () => {
    const { data, width, height } = await smallPhoto(64);
    const png = encodePng({ width, height, channels: 3, depth: 8, data });
    const workflow = JSON.stringify({
      nodes: Array.from({ length: 4000 }, (_, id) => ({ id, type: 'KSampler' })),
    });
    const text = pngChunk('tEXt', Buffer.from(`workflow\0${workflow}`, 'latin1'));
    const file = Buffer.concat([png.subarray(0, 33), text, png.subarray(33)]);
    const { out } = await exported(file, 'jpeg');
    const extension = jpegSegments(out).filter((s) =>
      Buffer.from(s.payload).toString('latin1').startsWith('http://ns.adobe.com/xmp/extension/\0'),
    );
    assert.ok(extension.length >= 2, `${extension.length} ExtendedXMP segments`);
    const whole = Buffer.concat(extension.map((s) => s.payload.subarray(35 + 32 + 8))).toString('utf8');
    assert.ok(whole.includes(workflow.replace(/"/g, '&quot;')));
    const standard = (await sharp(out).metadata()).xmpAsString ?? '';
    assert.match(standard, /xmpNote:HasExtendedXMP="[0-9A-F]{32}"/);
    assert.match(standard, /heirloom:Version="0\.1\.0"/, 'the provenance stays in the standard packet');
  });
});

describe('colour profiles', () => {
  /** A real photo's sRGB colours as `profile`'s numbers (converted by sharp/lcms), and the profile file. */
  async function inProfile(profile: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'profile.icc'), profile);
    const { data, info } = await sharp(photo('CodeFormer/inputs/whole_imgs/00.jpg'))
      .resize(320)
      .withIccProfile(path.join(dir, 'profile.icc'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  }

  for (const [name, profile] of [
    ['Adobe RGB', () => Promise.resolve(ADOBE_RGB)],
    ['Display P3', () => sharpProfile('p3')],
  ] as const) {
    test(`an 8-bit photo in ${name} comes back in ${name}, its profile the same bytes, within 2 levels`, async () => {
      const icc = await profile();
      const { data, width, height } = await inProfile(icc);
      const file = encodePng({ width, height, channels: 3, depth: 8, data }, { icc: { name, profile: icc } });
      for (const format of ['png', 'tiff'] as const) {
        const { out } = await exported(file, format, null);
        const meta = await sharp(out).metadata();
        assert.ok(meta.icc?.equals(icc), `${format}: the source's profile`);
        const stored = await sharp(out, { ignoreIcc: true }).raw().toBuffer();
        let worst = 0;
        for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(stored[i]! - data[i]!));
        assert.ok(worst <= 2, `${format}: ${worst} levels`);
      }
    });

    test(`a 16-bit photo in ${name} stays 16-bit and in ${name}: PNG and TIFF give its values back`, async () => {
      const icc = await profile();
      const { data, width, height } = await inProfile(icc);
      const values = Uint16Array.from(data, (v, i) => Math.min(65535, v * 257 + ((i * 7919) % 97)));
      const file = encodePng(
        { width, height, channels: 3, depth: 16, data: values },
        { icc: { name, profile: icc } },
      );
      const { pixels } = await decodePhoto(file);
      for (const format of ['png', 'tiff'] as const) {
        const { out } = await exported(file, format, null);
        assert.ok((await sharp(out).metadata()).icc?.equals(icc));
        assert.equal((await sharp(out).metadata()).depth, 'ushort', `${format}: 16 bits per sample`);
        const raw = await sharp(out, { ignoreIcc: true })
          .toColourspace('rgb16')
          .raw({ depth: 'ushort' })
          .toBuffer();
        const stored =
          format === 'png'
            ? decodePng(out).data
            : new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
        assert.equal(stored.length, values.length);
        // Colours the sRGB working copy holds (no channel clipped to 0 or 65535) come back within a fraction of an
        // 8-bit level: less near black in Adobe RGB, whose pure gamma is finer there than sRGB's linear toe.
        let worst = 0;
        for (let i = 0; i < values.length; i += 3) {
          if ([0, 1, 2].some((c) => pixels.data[i + c] === 0 || pixels.data[i + c] === 65535)) continue;
          for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(stored[i + c]! - values[i + c]!));
        }
        assert.ok(worst <= (name === 'Adobe RGB' ? 128 : 2), `${format}: ${worst} of 65535`);
      }
    });
  }

  test('a real scan with a display profile, EXIF, XMP and 144 DPI comes back sample for sample', async () => {
    const file = fs.readFileSync(SOLVAY);
    const { out } = await exported(file, 'png', null);
    assert.deepEqual(decodePng(out).data, decodePng(file).data);
    const [before, after] = [await sharp(file).metadata(), await sharp(out).metadata()];
    assert.ok(before.icc && after.icc?.equals(before.icc));
    assert.equal(after.density, 144);
    assert.equal(after.xmpAsString, before.xmpAsString);
  });

  test('a photo tagged with another maker’s sRGB profile keeps its profile and its pixels as decoded', async () => {
    const icc = await sharpProfile('srgb');
    const { data, width, height } = await smallPhoto(96);
    const file = encodePng(
      { width, height, channels: 3, depth: 8, data },
      { icc: { name: 'sRGB', profile: icc } },
    );
    const { out, pixels } = await exported(file, 'png', null);
    assert.ok((await sharp(out).metadata()).icc?.equals(icc));
    assert.deepEqual(decodePng(out).data, pixels.data);
  });

  test('a photo without a profile is exported without one', async () => {
    const { out } = await exported(await cameraJpeg(true), 'png', null);
    assert.equal((await sharp(out).metadata()).icc, undefined);
  });

  test('gray photos keep their gray profile: 8-bit converted back into it, 16-bit as stored', async () => {
    const icc = grayProfile(1);
    const ramp = Array.from({ length: 256 }, (_, i) => i);
    for (const depth of [8, 16] as const) {
      const data = depth === 8 ? Uint8Array.from(ramp) : Uint16Array.from(ramp, (v) => v * 257);
      const file = encodePng(
        { width: 256, height: 1, channels: 1, depth, data },
        { icc: { name: 'gray', profile: icc } },
      );
      const { out } = await exported(file, 'png', null);
      const back = decodePng(out);
      assert.ok((await sharp(out).metadata()).icc?.equals(icc));
      // Linear light at 8 bits is coarse near black in sRGB's working copy: ±1 there, exact above.
      ramp.forEach((v, i) => {
        const expected = depth === 8 ? v : v * 257;
        const tolerance = depth === 8 && v < 32 ? 3 : 1;
        assert.ok(Math.abs(back.data[i]! - expected) <= tolerance, `${depth}-bit ${v}: ${back.data[i]}`);
      });
    }
  });
});
