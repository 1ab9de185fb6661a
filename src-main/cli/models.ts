import { parseArgs } from 'node:util';
import { AppError } from '../contract/errors.ts';
import { modelUrl, readManifest, type ModelEntry } from '../core/models/manifest.ts';
import {
  downloadAndInstall,
  findModel,
  importModel,
  modelStatus,
  needsAcceptance,
  verifyModel,
  type InstalledModel,
} from '../core/models/store.ts';
import { defaultDataDir } from '../core/paths.ts';
import type { Terminal } from './restore.ts';

export const MODELS_USAGE = `Usage:
  heirloom models list
  heirloom models download <id> [--accept-license]
  heirloom models import <id> <file> [--accept-license]
  heirloom models verify [<id>]

Installs the models Heirloom needs into its data folder ($HEIRLOOM_DATA, else the platform's usual one):
'yunet-2026may' (the face detector, MIT) and 'codeformer' (S-Lab License 1.0: non-commercial use only, so
--accept-license is required). A CodeFormer checkpoint is checked and converted once it arrives.
HEIRLOOM_MODEL_MIRROR=<base URL> fetches every model from <base URL>/<file> instead of its public source.
A download that stops (Ctrl-C, a lost connection) continues from where it was when run again.`;

function megabytes(bytes: number | null): string {
  return bytes === null ? 'size unknown' : `${(bytes / 1e6).toFixed(1)} MB`;
}

function line(model: InstalledModel): string {
  return `${model.id.padEnd(26)} ${model.status.padEnd(10)} ${megabytes(model.bytes).padEnd(12)} ${model.why}`;
}

/** Progress on one line of the terminal, at most a few times a second. */
function progressPrinter(
  io: Terminal,
): (p: {
  received: number;
  total: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
}) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 500 && p.received !== p.total) return;
    last = now;
    const share = p.total ? ` (${Math.floor((p.received / p.total) * 100)}%)` : '';
    const eta = p.etaSeconds === null ? '' : `, ${Math.ceil(p.etaSeconds)} s left`;
    io.stderr.write(`  ${megabytes(p.received)}${share}, ${megabytes(p.bytesPerSecond)}/s${eta}\n`);
  };
}

function licenceNotice(entry: ModelEntry, io: Terminal): void {
  io.stdout.write(`${entry.id}: ${entry.license}\n`);
}

/** `heirloom models …`; returns the exit status (0 done, 1 failed, 2 usage). Usage errors are thrown as AppError INVALID_INPUT. */
export async function models(argv: readonly string[], io: Terminal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { 'accept-license': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const [action, id, file] = positionals;
  if (values.help || action === undefined) {
    io.stdout.write(`${MODELS_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const manifest = readManifest(process.env.HEIRLOOM_MODEL_MANIFEST || undefined);
  const dataDir = defaultDataDir();
  const accepted = values['accept-license'] === true;
  switch (action) {
    case 'list':
      for (const entry of manifest) io.stdout.write(`${line(modelStatus(entry, dataDir))}\n`);
      return 0;
    case 'verify': {
      const entries = id ? [findModel(id, manifest)] : manifest;
      let bad = 0;
      for (const entry of entries) {
        const model = await verifyModel(entry, dataDir);
        if (model.status === 'corrupt' || (id && model.status === 'missing')) bad++;
        io.stdout.write(`${line(model)}\n`);
      }
      return bad > 0 ? 1 : 0;
    }
    case 'download': {
      if (!id)
        throw new AppError('INVALID_INPUT', 'models download needs a model id (see: heirloom models list)');
      const entry = findModel(id, manifest);
      if (needsAcceptance(entry)) licenceNotice(entry, io);
      const url = modelUrl(entry, process.env.HEIRLOOM_MODEL_MIRROR || undefined);
      io.stderr.write(`downloading ${entry.id} from ${url}\n`);
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      try {
        const model = await downloadAndInstall(entry, dataDir, url, {
          licenseAccepted: accepted,
          signal: controller.signal,
          onProgress: progressPrinter(io),
        });
        io.stdout.write(`${line(model)}\n`);
        return 0;
      } finally {
        process.off('SIGINT', stop);
      }
    }
    case 'import': {
      if (!id || !file) throw new AppError('INVALID_INPUT', 'models import needs a model id and a file');
      const entry = findModel(id, manifest);
      if (needsAcceptance(entry)) licenceNotice(entry, io);
      const model = await importModel(entry, file, dataDir, { licenseAccepted: accepted });
      io.stdout.write(`${line(model)}\n`);
      return 0;
    }
    default:
      throw new AppError(
        'INVALID_INPUT',
        `unknown models action "${action}" (list, download, import, verify)`,
      );
  }
}
