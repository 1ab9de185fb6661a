/**
 * The full-size conversion and the restorer built on it, as the app uses them: time and memory of
 * `convertCheckpoint` on an official-layout checkpoint (seeded weights, 376 MB), then, in a fresh process, the
 * CodeFormer restorer: session creation, the first restore of a face (part A + part B), re-tuning w (part B
 * only, from the cached part A), the w = 0 path, and peak RSS with both parts loaded. Prints JSON.
 *
 *   node --import tsx bench/convert.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodeFormerRestorer } from '../src-main/core/engine/codeformer.ts';
import { decodePhoto } from '../src-main/core/engine/image.ts';
import { convertCheckpoint } from '../src-main/core/models/convert.ts';
import { PRESETS } from '../src-main/core/nn/codeformer/config.ts';
import { writePth } from '../tests/support/pth-writer.ts';
import { seededStateDict } from '../tests/support/seeded-weights.ts';

const FACE = path.resolve(
  import.meta.dirname,
  '../../shared/photos/CodeFormer/inputs/cropped_faces/0143.png',
);
const rssMb = (): number => Math.round(process.memoryUsage().rss / 1048576);
const peakMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const ms = (start: number): number => Math.round(performance.now() - start);

async function median(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await run();
    samples.push(performance.now() - t);
  }
  return Math.round(samples.sort((a, b) => a - b)[samples.length >> 1]!);
}

const [mode, checkpoint, out] = process.argv.slice(2);
if (mode === '--write') {
  writePth(checkpoint!, seededStateDict(PRESETS.restoration, 1));
} else if (mode === '--convert') {
  // A fresh process, so the baseline is the process before conversion and nothing else.
  const baseline = rssMb();
  const start = performance.now();
  convertCheckpoint(checkpoint!, out!);
  console.log(
    JSON.stringify({
      seconds: ms(start) / 1000,
      baselineMb: baseline,
      peakAboveBaselineMb: peakMb() - baseline,
    }),
  );
} else if (mode === '--restore') {
  const face = (await decodePhoto(fs.readFileSync(FACE))).rgb;
  const baseline = rssMb();
  let t = performance.now();
  const restorer = await CodeFormerRestorer.open(out!, { providers: ['cpu'] });
  const openMs = ms(t);
  t = performance.now();
  await restorer.restore(face, 0.5);
  const firstRestoreMs = ms(t);
  let w = 0.5;
  const retuneMs = await median(7, () => restorer.restore(face, (w = w === 0.5 ? 0.7 : 0.5)));
  const peakWithBothPartsMb = peakMb();
  await restorer.restore(face, 0); // opens the no-CFT graph
  const retuneW0Ms = await median(7, () => restorer.restore(face, 0));
  console.log(
    JSON.stringify({
      openMs,
      firstRestoreMs,
      retuneMs,
      retuneW0Ms,
      runs: restorer.runs,
      baselineMb: baseline,
      peakWithBothPartsMb,
      peakWithNoCftTooMb: peakMb(),
    }),
  );
  await restorer.release();
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-bench-'));
  try {
    const file = path.join(dir, 'codeformer.pth');
    // Every step runs in a child of this small process: Linux carries a process's peak RSS over fork and
    // exec, so a child of a parent that had held the weights would report the parent's peak as its own.
    const self = [process.execArgv, import.meta.filename].flat();
    execFileSync(process.execPath, [...self, '--write', file]);
    const run = (args: string[]): unknown =>
      JSON.parse(
        execFileSync(process.execPath, [...self, ...args], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .at(-1)!,
      );
    const converted = path.join(dir, 'converted');
    const convert = run(['--convert', file, converted]);
    const restore = run(['--restore', file, converted]);
    console.log(
      JSON.stringify(
        {
          machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}`,
          checkpointMb: Math.round(fs.statSync(file).size / 1048576),
          convert,
          restore,
          targets: {
            convertSeconds: 30,
            convertAboveBaselineMb: 1536,
            retuneMs: 2000,
            peakWithBothPartsMb: 2560,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
