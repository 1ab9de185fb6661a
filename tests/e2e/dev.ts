/*
 * A host to look at the UI by hand, set up as the browser tests set it up: `node --import tsx tests/e2e/dev.ts
 * [--installed] [--dir <folder>]`. With --installed the models are imported first, so the library opens
 * instead of the first-run screen. Prints the address to open; Ctrl-C stops it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startE2eHost } from './support/host.ts';
import { prepareE2eModels } from './support/models.ts';

const { values } = parseArgs({
  options: {
    installed: { type: 'boolean', default: false },
    dir: { type: 'string' },
    port: { type: 'string' },
  },
});
const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'heirloom-dev-'));
const models = prepareE2eModels(dir);
const host = await startE2eHost({
  dataDir: path.join(dir, 'data'),
  models,
  ...(values.port ? { port: Number(values.port) } : {}),
});
host.child.stderr!.pipe(process.stderr);
if (values.installed) {
  await host.api('model.import', { id: 'yunet-2026may', path: models.detector });
  await host.api('model.import', { id: 'codeformer', path: models.checkpoint, acceptLicense: true });
}
process.stdout.write(`${JSON.stringify({ address: host.address, url: host.url, token: host.token, dir })}\n`);
process.once('SIGINT', () => void host.stop().then(() => process.exit(0)));
process.once('SIGTERM', () => void host.stop().then(() => process.exit(0)));
