import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { runCli, tempDir, type CliRun } from '../support/cli.ts';
import { IDENTITY_RESTORER, YUNET, photo } from '../support/paths.ts';
import { crc32 } from '../support/zip-writer.ts';

const MODELS = ['--restorer', IDENTITY_RESTORER, '--detector', YUNET];

/** A PNG whose header claims `width`×`height` but holds almost no data. */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])) >>> 0, 0);
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function jsonLines(run: CliRun): Record<string, unknown>[] {
  return run.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('heirloom restore (CLI)', () => {
  const inputs = tempDir();
  const out = tempDir();
  let run: CliRun;
  let byInput: Map<string, Record<string, unknown>>;
  const source = photo('CodeFormer/inputs/whole_imgs/05.jpg'); // 191×264, one face

  before(async () => {
    const jpeg = fs.readFileSync(source);
    const files: Record<string, Buffer> = {
      'truncated.jpg': jpeg.subarray(0, Math.floor(jpeg.length / 2)),
      'text.jpg': Buffer.from('this is not a photo\n'),
      'empty.jpg': Buffer.alloc(0),
      'huge.png': pngClaiming(30000, 30000),
      'cmyk.jpg': await sharp(source).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer(),
      'deep.png': await sharp(source).toColourspace('rgb16').png().toBuffer(),
      'rgba.png': await sharp(source).ensureAlpha(0.8).png().toBuffer(),
      'gray.jpg': await sharp(source).toColourspace('b-w').jpeg({ quality: 95 }).toBuffer(),
      // Pixels stored turned a quarter to the left, with EXIF orientation 6 to show them upright.
      'rotated.jpg': await sharp(source)
        .rotate(-90)
        .withMetadata({ orientation: 6 })
        .jpeg({ quality: 95 })
        .toBuffer(),
    };
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(inputs, name), bytes);
    run = await runCli(['restore', inputs, '--out', out, '--json', ...MODELS]);
    byInput = new Map(jsonLines(run).map((r) => [path.basename(String(r.input)), r]));
  });

  test('a batch with bad files exits 1, reports each failure in one line, and restores the rest', () => {
    assert.equal(run.code, 1, run.stderr);
    assert.equal(byInput.size, 9);
    const failures = run.stderr.trim().split('\n');
    assert.equal(failures.length, 4, run.stderr);
    assert.match(run.stderr, /truncated\.jpg: the image file is truncated or damaged/);
    assert.match(run.stderr, /text\.jpg: not an image/);
    assert.match(run.stderr, /empty\.jpg: the file is empty/);
    assert.match(run.stderr, /huge\.png: the image is 30000×30000 \(900 MP\); the limit is 200 MP/);
    const written = fs.readdirSync(out).sort();
    assert.deepEqual(written, ['cmyk.jpg', 'deep.png', 'gray.jpg', 'rgba.png', 'rotated.jpg']);
  });

  test('--json prints one object per input with size, faces and step times', () => {
    const r = byInput.get('cmyk.jpg')!;
    assert.deepEqual(Object.keys(r).sort(), ['faces', 'height', 'input', 'ms', 'output', 'width']);
    assert.deepEqual([r.width, r.height], [191, 264]);
    const faces = r.faces as { box: number[]; score: number; landmarks: number[][] }[];
    assert.equal(faces.length, 1);
    assert.equal(faces[0]!.box.length, 4);
    assert.equal(faces[0]!.landmarks.length, 5);
    for (const step of ['decode', 'detect', 'restore', 'paste', 'encode']) {
      assert.equal(typeof (r.ms as Record<string, number>)[step], 'number', step);
    }
    assert.deepEqual(byInput.get('empty.jpg'), {
      input: path.join(inputs, 'empty.jpg'),
      error: 'the file is empty',
    });
  });

  test('CMYK comes out as sRGB with its colours', async () => {
    const original = await sharp(source).stats();
    const restored = await sharp(path.join(out, 'cmyk.jpg')).stats();
    const meta = await sharp(path.join(out, 'cmyk.jpg')).metadata();
    assert.equal(meta.space, 'srgb');
    // Within the loss of a CMYK round trip through generic profiles (about 7 levels in blue).
    for (let c = 0; c < 3; c++)
      assert.ok(Math.abs(original.channels[c]!.mean - restored.channels[c]!.mean) < 10);
  });

  test('16-bit, alpha and grayscale photos keep their depth, alpha and single channel', async () => {
    const deep = await sharp(path.join(out, 'deep.png')).metadata();
    assert.equal(deep.depth, 'ushort');
    const rgba = await sharp(path.join(out, 'rgba.png')).metadata();
    assert.equal(rgba.hasAlpha, true);
    const gray = await sharp(path.join(out, 'gray.jpg')).metadata();
    assert.equal(gray.channels, 1);
  });

  test('an EXIF-rotated photo comes out upright, with its face found', async () => {
    const meta = await sharp(path.join(out, 'rotated.jpg')).metadata();
    assert.deepEqual([meta.width, meta.height], [191, 264]);
    assert.ok((meta.orientation ?? 1) === 1);
    assert.equal((byInput.get('rotated.jpg')!.faces as unknown[]).length, 1);
    // Upright means the same picture as the original, not a turned one.
    const a = await sharp(source).resize(32, 32, { fit: 'fill' }).raw().toBuffer();
    const b = await sharp(path.join(out, 'rotated.jpg')).resize(32, 32, { fit: 'fill' }).raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
    assert.ok(diff / a.length < 8, `mean difference ${diff / a.length}`);
  });
});

describe('heirloom restore never loses a file', () => {
  test('writing into the input folder never overwrites the input; a taken name gets a suffix', async () => {
    const dir = tempDir();
    const input = path.join(dir, 'family.jpg');
    fs.copyFileSync(photo('CodeFormer/inputs/whole_imgs/04.jpg'), input);
    const before = fs.readFileSync(input);
    const first = await runCli(['restore', input, '--out', dir, ...MODELS]);
    const second = await runCli(['restore', input, '--out', dir, ...MODELS]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(fs.readFileSync(input), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['family-1.jpg', 'family-2.jpg', 'family.jpg']);
  });

  test('--aligned restores a 512×512 face as it is: no detection, no paste-back', async () => {
    const out = tempDir();
    const face = photo('CodeFormer/inputs/cropped_faces/0143.png');
    const run = await runCli([
      'restore',
      face,
      '--aligned',
      '--out',
      out,
      '--json',
      '--restorer',
      IDENTITY_RESTORER,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const [line] = jsonLines(run);
    assert.deepEqual(line!.faces, []);
    const restored = await sharp(path.join(out, '0143.png')).raw().toBuffer();
    const original = await sharp(face).removeAlpha().raw().toBuffer();
    assert.deepEqual(restored, original, 'identity restorer must give the face back exactly');
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['restore', '--out', tempDir(), ...MODELS], /at least one file or folder/],
      [['restore', photo('CodeFormer/inputs/whole_imgs/04.jpg'), ...MODELS], /needs --out/],
      [['restore', 'x.jpg', '--out', tempDir(), '--w', '2', ...MODELS], /--w must be between 0 and 1/],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--upscale', '1.5', ...MODELS],
        /--upscale must be an integer/,
      ],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--restorer', '/nonexistent.onnx'],
        /restorer model not found/,
      ],
      [['restore', 'x.jpg', '--out', tempDir(), '--bogus'], /Unknown option '--bogus'/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });

  test('a missing input fails alone with its reason; exit 1', async () => {
    const out = tempDir();
    const run = await runCli([
      'restore',
      '/nonexistent/photo.jpg',
      photo('CodeFormer/inputs/whole_imgs/04.jpg'),
      '--out',
      out,
      ...MODELS,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /photo\.jpg: no such file/);
    assert.deepEqual(fs.readdirSync(out), ['04.jpg']);
  });
});
