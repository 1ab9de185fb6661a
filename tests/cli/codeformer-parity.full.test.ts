import path from 'node:path';
import { before, describe, test } from 'node:test';
import { PRESETS } from '../../src-main/core/nn/codeformer/config.ts';
import { tempDir } from '../support/cli.ts';
import { assertMatchesOfficial, restoreFace } from '../support/official.ts';
import { writePth } from '../support/pth-writer.ts';
import { seededStateDict } from '../support/seeded-weights.ts';

/*
 * Full size (npm run test:full): one CLI run goes the whole way a user's checkpoint goes: the .pth reader, the
 * key-by-key check against the official network, the conversion into the data folder (weights file, graphs),
 * the restorer (part A, then part B at w = 0.5) and the PNG written. npm test's one full-size check is the
 * graph-level one (tests/nn/codeformer-parity.test.ts); the rest of this path runs there on tiny checkpoints.
 */
describe('an official-layout CodeFormer checkpoint, end to end (full size, seeded weights)', () => {
  const checkpoint = path.join(tempDir(), 'codeformer.pth');

  before(() => {
    writePth(checkpoint, seededStateDict(PRESETS.restoration, 1), 1500);
  });

  test('restore --restorer <.pth> --aligned --w 0.5 matches the official network within one level on ≥ 99.9% of values', async () => {
    const restored = await restoreFace(checkpoint, '0.5', tempDir(), { HEIRLOOM_DATA: tempDir() });
    await assertMatchesOfficial(restored, 'dev_output_w0.5.f32');
  });
});
