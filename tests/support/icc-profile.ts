// ICC profiles for tests: a small matrix/TRC RGB profile writer (ICC.1:2001 v2 layout: header, tag table, XYZ
// and curve tags), so tests need no profile files from the system, and sharp's own built-in profiles.
import sharp from 'sharp';

const D50 = [0.9642, 1, 0.8249] as const;

function s15Fixed16(values: readonly number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeInt32BE(Math.round(v * 65536), 4 * i));
  return out;
}

function xyzTag(xyz: readonly number[]): Buffer {
  return Buffer.concat([Buffer.from('XYZ \0\0\0\0', 'latin1'), s15Fixed16(xyz)]);
}

function gammaTag(gamma: number): Buffer {
  const out = Buffer.alloc(14);
  out.write('curv', 0, 'latin1');
  out.writeUInt32BE(1, 8);
  out.writeUInt16BE(Math.round(gamma * 256), 12);
  return out;
}

/** A monitor-class RGB profile from its D50-adapted colorants (red, green, blue XYZ) and one gamma. */
export function matrixProfile(colorants: readonly (readonly number[])[], gamma: number): Buffer {
  const curve = gammaTag(gamma);
  const tags: [string, Buffer][] = [
    ['wtpt', xyzTag(D50)],
    ['rXYZ', xyzTag(colorants[0]!)],
    ['gXYZ', xyzTag(colorants[1]!)],
    ['bXYZ', xyzTag(colorants[2]!)],
    ['rTRC', curve],
    ['gTRC', curve],
    ['bTRC', curve],
  ];
  const table = Buffer.alloc(4 + 12 * tags.length);
  table.writeUInt32BE(tags.length, 0);
  const bodies: Buffer[] = [];
  let offset = 128 + table.length;
  tags.forEach(([signature, body], i) => {
    table.write(signature, 4 + 12 * i, 'latin1');
    table.writeUInt32BE(offset, 8 + 12 * i);
    table.writeUInt32BE(body.length, 12 + 12 * i);
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0);
  header.writeUInt32BE(0x02100000, 8); // version 2.1
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.write('acsp', 36, 'latin1');
  s15Fixed16(D50).copy(header, 68);
  return Buffer.concat([header, table, ...bodies]);
}

/** Adobe RGB (1998): its primaries adapted to D50 as Adobe's own profile has them, gamma 563/256. */
export const ADOBE_RGB = matrixProfile(
  [
    [0.6097, 0.3111, 0.0195],
    [0.2053, 0.6257, 0.0609],
    [0.1492, 0.0632, 0.7446],
  ],
  563 / 256,
);

/** The bytes of one of sharp's built-in profiles ('p3', 'srgb', 'cmyk'). */
export async function sharpProfile(name: string): Promise<Buffer> {
  const image = sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } });
  const file = await image.withIccProfile(name).png().toBuffer();
  return (await sharp(file).metadata()).icc!;
}
