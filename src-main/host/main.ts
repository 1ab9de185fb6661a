import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { toApiError } from '../contract/errors.ts';
import { createCore } from '../core/app.ts';
import { forkEngine } from '../core/engine-client.ts';
import { ENGINE_CONFIG_ENV, type EngineConfig } from '../core/engine/protocol.ts';
import { defaultDataDir, defaultModelPaths } from '../core/paths.ts';
import { REPO_ROOT, VERSION } from '../core/version.ts';
import { mediaPath, startServer } from './server.ts';
import { newToken } from './auth.ts';

const USAGE = `Usage: npm run host -- [--data-dir <folder>] [--port <n>] [--detector <onnx>] [--restorer <model>]
                     [--folder <folder>]...

Serves Heirloom on 127.0.0.1 for a browser (and the end-to-end tests). Prints one JSON line
{"url": …, "token": …, "address": …}: open the address, which carries the token every request needs.

A browser cannot hand the page paths, so the page browses folders itself: your home folder, and each
--folder given (repeat it for more, e.g. a photo drive).`;

/**
 * The Node host: the core over HTTP. `--detector` and `--restorer` name the models as the CLI's options do
 * (until the model manager installs them into the data folder).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      detector: { type: 'string' },
      restorer: { type: 'string' },
      folder: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dataDir = path.resolve(values['data-dir'] ?? defaultDataDir());
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`heirloom host: --port must be a port number, got ${values.port}\n`);
    return 2;
  }
  const browseRoots = values.folder.map((folder) => path.resolve(folder));
  for (const folder of browseRoots) {
    if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
      process.stderr.write(`heirloom host: --folder ${folder}: no such folder\n`);
      return 2;
    }
  }
  const defaults = defaultModelPaths(dataDir);
  const engine: EngineConfig = {
    detector: path.resolve(values.detector ?? defaults.detector),
    restorer: path.resolve(values.restorer ?? defaults.restorer),
    parser: defaults.parser,
    retinaface: defaults.retinaface,
    background: defaults.background,
    colorizer: defaults.colorizer,
    inpainter: defaults.inpainter,
    dataDir,
  };
  const token = newToken();
  // An HMAC per media URL costs 4–7 µs: 40–70 ms for a list of 10,000 photos. The same ids come back with
  // every list, so each is signed once (a list of 10,000 is then read in the time of the query).
  const signed = new Map<string, string>();
  const mediaUrl = (id: string): string => {
    let url = signed.get(id);
    if (url === undefined) {
      if (signed.size >= 200_000) signed.clear();
      url = mediaPath(token, id);
      signed.set(id, url);
    }
    return url;
  };
  // Beside this file's own build: process.ts from source (run through tsx), process.js once built.
  const entry = path.join(
    import.meta.dirname,
    '../core/engine-process',
    `process${path.extname(import.meta.filename)}`,
  );
  let core;
  try {
    core = createCore(
      {
        dataDir,
        version: VERSION,
        browseRoots,
        ...(process.env.HEIRLOOM_MODEL_MIRROR ? { modelMirror: process.env.HEIRLOOM_MODEL_MIRROR } : {}),
        ...(process.env.HEIRLOOM_MODEL_MANIFEST
          ? { modelManifest: process.env.HEIRLOOM_MODEL_MANIFEST }
          : {}),
      },
      {
        spawnEngine: forkEngine(entry, {
          env: { ...process.env, [ENGINE_CONFIG_ENV]: JSON.stringify(engine) },
        }),
        mediaUrl,
      },
    );
  } catch (error) {
    process.stderr.write(`heirloom host: ${toApiError(error).message}\n`);
    return 1;
  }
  const ui = path.join(REPO_ROOT, 'build/renderer');
  const server = await startServer(core, {
    port,
    token,
    ...(fs.existsSync(path.join(ui, 'index.html')) ? { staticDir: ui } : {}),
  });
  // The address carries the token: the page reads it from there (then takes it out of the address bar).
  const address = `${server.url}/?token=${server.token}`;
  process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token, address })}\n`);
  if (process.stdout.isTTY)
    process.stderr.write(`Heirloom is running. Open this address in your browser:\n${address}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // Running jobs stop where they are, recorded as interrupted: the next start offers to resume them.
  await server.close();
  await core.close();
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
