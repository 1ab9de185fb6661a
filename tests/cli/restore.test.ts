import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import sharp from 'sharp';
import { runCli, runMain, tempDir, type CliRun } from '../support/cli.ts';
import { IDENTITY_RESTORER, YUNET, photo } from '../support/paths.ts';
import { pngChunk } from '../support/png.ts';
import { alignToTemplate, applySimilarity, similarityScale } from '../../src-main/core/engine/align.ts';
import { decodePhoto } from '../../src-main/core/engine/image.ts';
import { liveSessionCount } from '../../src-main/core/engine/sessions.ts';

const MODELS = ['--restorer', IDENTITY_RESTORER, '--detector', YUNET];

/** A PNG whose header claims `width`×`height` but holds almost no data. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
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
    run = await runMain(['restore', inputs, '--out', out, '--json', ...MODELS]);
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

  for (const [name, layout] of [
    ['deep.png', { depth: 16, channels: 3 }],
    ['rgba.png', { depth: 8, channels: 4 }],
    ['gray.jpg', { depth: 8, channels: 1 }],
  ] as const) {
    test(`${name} comes back with its depth, layout and pixels`, async () => {
      const input = await decodePhoto(fs.readFileSync(path.join(inputs, name)));
      const output = await decodePhoto(fs.readFileSync(path.join(out, name)));
      assert.deepEqual([output.pixels.depth, output.pixels.channels], [layout.depth, layout.channels]);
      const faces = byInput.get(name)!.faces as { landmarks: [number, number][] }[];
      assert.equal(faces.length, 1);
      const toTemplate = alignToTemplate(faces[0]!.landmarks);
      const { width, height, channels } = input.pixels;
      let away = 0;
      let same = 0;
      let worst = 0;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const [u, v] = applySimilarity(toTemplate, x, y);
          const m = 2 * similarityScale(toTemplate);
          if (u >= -m && v >= -m && u <= 511 + m && v <= 511 + m) continue;
          for (let c = 0; c < channels; c++) {
            const i = (y * width + x) * channels + c;
            const d = Math.abs(output.pixels.data[i]! - input.pixels.data[i]!);
            away++;
            if (d === 0) same++;
            worst = Math.max(worst, d);
          }
        }
      }
      assert.ok(away > 1000);
      // PNG is lossless; the gray JPEG is compressed again with its own tables, which leaves most values as they were.
      if (name.endsWith('.png')) assert.equal(worst, 0, 'a value away from the face changed');
      else
        assert.ok(
          same / away > 0.9 && worst <= 12,
          `${((same / away) * 100).toFixed(1)}% unchanged, worst ${worst}`,
        );
    });
  }

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
    const first = await runMain(['restore', input, '--out', dir, ...MODELS]);
    const second = await runMain(['restore', input, '--out', dir, ...MODELS]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(fs.readFileSync(input), before);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['family-1.jpg', 'family-2.jpg', 'family.jpg']);
  });

  test('--aligned restores a 512×512 face as it is: no detection, no paste-back', async () => {
    const out = tempDir();
    const face = photo('CodeFormer/inputs/cropped_faces/0143.png');
    const run = await runMain([
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
    assert.deepEqual(
      [line!.width, line!.height, line!.faces],
      [512, 512, undefined],
      'no faces are looked for',
    );
    assert.deepEqual(
      Object.keys(line!.ms as object),
      ['decode', 'restore', 'encode'],
      'only the steps that ran',
    );
    const restored = await sharp(path.join(out, '0143.png')).raw().toBuffer();
    const original = await sharp(face).removeAlpha().raw().toBuffer();
    assert.deepEqual(restored, original, 'identity restorer must give the face back exactly');
  });

  test('usage errors exit 2 and say in one line what is wrong, and where the help is', async () => {
    const cases: [string[], RegExp][] = [
      [['restore', '--out', tempDir(), ...MODELS], /at least one file or folder/],
      [['restore', photo('CodeFormer/inputs/whole_imgs/04.jpg'), ...MODELS], /needs --out/],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--w', '2', ...MODELS],
        /--w must be between 0 and 1, got 2$/m,
      ],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--w', '-1', ...MODELS],
        /--w must be between 0 and 1, got -1$/m,
      ],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--upscale', '1.5', ...MODELS],
        /--upscale must be an integer/,
      ],
      [
        ['restore', 'x.jpg', '--out', tempDir(), '--restorer', '/nonexistent.onnx'],
        /restorer model not found/,
      ],
      [['restore', 'x.jpg', '--out', tempDir(), '--bogus'], /Unknown option '--bogus'$/m],
      [['restore', 'x.jpg', '--w', '--out', tempDir()], /--w needs a value$/m],
      [['restore', 'x.jpg', '--out', tempDir(), '--w'], /--w needs a value$/m],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const run = await runMain(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 2, run.stderr);
      assert.match(lines[0]!, message);
      assert.match(lines[1]!, /run 'heirloom (restore )?--help' for usage/);
    }
  });

  test('restore --help shows the options and exits 0', async () => {
    const run = await runMain(['restore', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage: heirloom restore/);
    for (const option of ['--out', '--w', '--restorer', '--detector', '--aligned', '--upscale', '--json']) {
      assert.ok(run.stdout.includes(option), option);
    }
  });

  test('--out naming a file is refused before any photo is touched', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'results.txt');
    fs.writeFileSync(file, 'keep me');
    const run = await runMain([
      'restore',
      photo('CodeFormer/inputs/whole_imgs/04.jpg'),
      '--out',
      file,
      ...MODELS,
    ]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--out .*results\.txt is a file; name a folder/);
    assert.equal(run.stdout, '');
    assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
  });

  test('an --out that cannot be made is said once, before any photo is read', async () => {
    // Under /proc no folder can be made (and Node's recursive mkdir never returns there).
    const run = await runMain([
      'restore',
      photo('CodeFormer/inputs/whole_imgs/04.jpg'),
      '--out',
      '/proc/heirloom/out',
      ...MODELS,
    ]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^heirloom: cannot make the folder --out \/proc\/heirloom\/out \(ENOENT\)\n/);
    assert.equal(run.stdout, '');
  });

  test('a folder with no photos is reported as a failed input, also in --json', async () => {
    const empty = tempDir();
    fs.writeFileSync(path.join(empty, 'notes.txt'), 'not a photo');
    const run = await runMain(['restore', empty, '--out', tempDir(), '--json', ...MODELS]);
    assert.equal(run.code, 1);
    assert.deepEqual(jsonLines(run), [
      {
        input: empty,
        error: 'a folder with no photos in it (looked for .jpg .jpeg .png .webp .tif .tiff .gif files)',
      },
    ]);
    assert.match(run.stderr, /a folder with no photos in it/);
  });

  test('a folder holding only subfolders says that they are not read', async () => {
    const album = tempDir();
    fs.mkdirSync(path.join(album, '1950s'));
    fs.mkdirSync(path.join(album, '1960s'));
    const run = await runMain(['restore', album, '--out', tempDir(), ...MODELS]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /a folder with no photos directly in it \(.*\); its 2 subfolders are not read: add those folders themselves$/m,
    );
  });

  test('--json under --upscale reports the size that was written', async () => {
    const out = tempDir();
    const run = await runMain([
      'restore',
      photo('CodeFormer/inputs/whole_imgs/05.jpg'),
      '--out',
      out,
      '--upscale',
      '2',
      '--json',
      ...MODELS,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const [line] = jsonLines(run);
    assert.deepEqual([line!.width, line!.height], [382, 528]);
    const written = await sharp(String(line!.output)).metadata();
    assert.deepEqual([written.width, written.height], [382, 528]);
  });

  test('--aligned on a photo that is not square warns that it was stretched', async () => {
    const out = tempDir();
    const run = await runMain([
      'restore',
      photo('CodeFormer/inputs/whole_imgs/05.jpg'), // 191×264
      '--aligned',
      '--out',
      out,
      '--json',
      '--restorer',
      IDENTITY_RESTORER,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /05\.jpg: warning: the face is 191×264, not square: it was stretched to 512×512/,
    );
    assert.deepEqual(jsonLines(run)[0]!.warnings, [
      'the face is 191×264, not square: it was stretched to 512×512',
    ]);
  });

  test('the heirloom command prints nothing but the JSON lines on stdout', async () => {
    const run = await runCli([
      'restore',
      photo('CodeFormer/inputs/whole_imgs/04.jpg'),
      '--out',
      tempDir(),
      '--json',
      ...MODELS,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { faces: unknown[] }).faces.length, 1);
  });

  test('a JPEG comes back compressed as it was: away from the faces almost every value is unchanged', async () => {
    const out = tempDir();
    const source = photo('CodeFormer/inputs/whole_imgs/03.jpg'); // quality 80, 4:2:0
    const run = await runMain(['restore', source, '--out', out, '--json', ...MODELS]);
    assert.equal(run.code, 0, run.stderr);
    const [line] = jsonLines(run);
    const faces = (line!.faces as { landmarks: [number, number][] }[]).map((f) =>
      alignToTemplate(f.landmarks),
    );
    const input = await decodePhoto(fs.readFileSync(source));
    const output = await decodePhoto(fs.readFileSync(String(line!.output)));
    assert.equal((await sharp(String(line!.output)).metadata()).chromaSubsampling, '4:2:0');
    const { width, height } = input.pixels;
    let away = 0;
    let same = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const near = faces.some((t) => {
          const [u, v] = applySimilarity(t, x, y);
          const m = 16 * similarityScale(t); // JPEG blocks near a face change with it
          return u >= -m && v >= -m && u <= 511 + m && v <= 511 + m;
        });
        if (near) continue;
        for (let c = 0; c < 3; c++) {
          away++;
          if (output.pixels.data[(y * width + x) * 3 + c] === input.pixels.data[(y * width + x) * 3 + c])
            same++;
        }
      }
    }
    assert.ok(away > 50_000);
    assert.ok(
      same / away >= 0.97,
      `${((same / away) * 100).toFixed(1)}% of the values away from the faces unchanged`,
    );
  });

  test('on a file system without hard links (FAT, exFAT, many shares) the photo is still written, whole', async () => {
    // link() refused for the whole CLI process, as vfat refuses it (EPERM), through a preloaded libc shim.
    const dir = tempDir();
    const shim = path.join(dir, 'no-hard-links.so');
    fs.writeFileSync(
      path.join(dir, 'shim.c'),
      '#include <errno.h>\nint link(const char *a, const char *b) { errno = EPERM; return -1; }\n' +
        'int linkat(int d, const char *a, int e, const char *b, int f) { errno = EPERM; return -1; }\n',
    );
    execFileSync('cc', ['-shared', '-fPIC', '-o', shim, path.join(dir, 'shim.c')]);
    const out = tempDir();
    fs.writeFileSync(path.join(out, '04.jpg'), 'an earlier file of the same name');
    const source = photo('CodeFormer/inputs/whole_imgs/04.jpg');
    const run = await runCli(['restore', source, '--out', out, ...MODELS], { LD_PRELOAD: shim });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['04-1.jpg', '04.jpg']);
    assert.equal(fs.readFileSync(path.join(out, '04.jpg'), 'utf8'), 'an earlier file of the same name');
    const written = await decodePhoto(fs.readFileSync(path.join(out, '04-1.jpg')));
    assert.deepEqual([written.pixels.width, written.pixels.height], [225, 225]);
  });

  test('a model that fails to open stops the command and leaves no other model open', async () => {
    const before = liveSessionCount();
    const photo04 = photo('CodeFormer/inputs/whole_imgs/04.jpg');
    // The detector is not YuNet (the restorer would open); then the restorer is not one (the detector opened).
    const badDetector = await runMain([
      'restore',
      photo04,
      '--out',
      tempDir(),
      '--restorer',
      IDENTITY_RESTORER,
      '--detector',
      IDENTITY_RESTORER,
    ]);
    assert.equal(badDetector.code, 2);
    assert.match(badDetector.stderr, /is not a YuNet face detector/);
    const badRestorer = await runMain([
      'restore',
      photo04,
      '--out',
      tempDir(),
      '--restorer',
      YUNET,
      '--detector',
      YUNET,
    ]);
    assert.equal(badRestorer.code, 2);
    assert.match(badRestorer.stderr, /is not a face restorer/);
    assert.equal(liveSessionCount(), before);
  });

  test('a missing input fails alone with its reason; exit 1', async () => {
    const out = tempDir();
    const run = await runMain([
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

test('--only-center-face restores only the face nearest the middle; refused with --aligned or --landmarks', async () => {
  const input = photo('CodeFormer/inputs/whole_imgs/00.jpg');
  const all = await runMain(['restore', input, '--out', tempDir(), '--json', ...MODELS]);
  const one = await runMain([
    'restore',
    input,
    '--out',
    tempDir(),
    '--json',
    '--only-center-face',
    ...MODELS,
  ]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(one.code, 0, one.stderr);
  const [every] = jsonLines(all);
  const [only] = jsonLines(one);
  const boxes = (every!.faces as { box: number[] }[]).map((f) => f.box);
  assert.ok(boxes.length > 1, `${boxes.length} faces in 00.jpg`);
  const [cx, cy] = [Number(every!.width) / 2, Number(every!.height) / 2];
  const away = (b: number[]) => Math.hypot(b[0]! + b[2]! / 2 - cx, b[1]! + b[3]! / 2 - cy);
  const nearest = boxes.reduce((best, b) => (away(b) < away(best) ? b : best));
  assert.deepEqual(
    (only!.faces as { box: number[] }[]).map((f) => f.box),
    [nearest],
  );

  const points = path.join(tempDir(), 'points.json');
  fs.writeFileSync(
    points,
    JSON.stringify({
      landmarks: [
        [
          [1, 1],
          [3, 1],
          [2, 2],
          [1, 3],
          [3, 3],
        ],
      ],
    }),
  );
  const cases: [string[], RegExp][] = [
    [['--aligned'], /--only-center-face and --aligned do not go together/],
    [['--landmarks', points], /--only-center-face and --landmarks do not go together/],
  ];
  for (const [extra, message] of cases) {
    const run = await runMain([
      'restore',
      input,
      '--out',
      tempDir(),
      '--only-center-face',
      ...extra,
      ...MODELS,
    ]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr.split('\n')[0]!, message);
    assert.equal(run.stdout, '');
  }
  const help = await runMain(['restore', '--help']);
  assert.ok(help.stdout.includes('--only-center-face'));
});

test('each output says in its XMP how it was restored, unless --no-provenance', async () => {
  const out = tempDir();
  const input = photo('CodeFormer/inputs/whole_imgs/00.jpg');
  const run = await runMain(['restore', input, '--out', out, '--w', '0.7', ...MODELS]);
  assert.equal(run.code, 0, run.stderr);
  const xmp = (await sharp(path.join(out, '00.jpg')).metadata()).xmp!.toString();
  const sha256 = createHash('sha256').update(fs.readFileSync(IDENTITY_RESTORER)).digest('hex');
  assert.ok(xmp.includes(`heirloom:ModelSHA256="${sha256}"`), xmp);
  assert.ok(xmp.includes('heirloom:ModelName="identity_restorer.onnx"'));
  const ws = [...xmp.matchAll(/<heirloom:Fidelity>([\d.]+)</g)].map((m) => Number(m[1]));
  assert.deepEqual(ws, [0.7, 0.7, 0.7, 0.7], 'the four faces of 00.jpg, each at w = 0.7');

  const plain = tempDir();
  assert.equal((await runMain(['restore', input, '--out', plain, '--no-provenance', ...MODELS])).code, 0);
  const meta = await sharp(path.join(plain, '00.jpg')).metadata();
  assert.ok(!meta.xmp?.toString().includes('heirloom'));
});
