import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import { PHOTOS, REPO } from '../../support/paths.ts';
import type { E2eModels } from './models.ts';

/** The Node host as the browser tests use it: the built UI, tiny presets, the test's models and folders. */
export interface E2eHost {
  readonly url: string;
  readonly token: string;
  /** The address a user opens: the UI with its token. */
  readonly address: string;
  readonly child: ChildProcess;
  /** POST /api/<route> outside the page (setting up, checking files): the value, or throws. */
  api(route: string, input?: unknown): Promise<unknown>;
  /** SIGKILL: the host dies mid-work, as in a crash or a power cut. */
  kill(): Promise<void>;
  /** SIGTERM: a clean quit. */
  stop(): Promise<void>;
}

export async function startE2eHost(options: {
  dataDir: string;
  models: E2eModels;
  folders?: readonly string[];
  port?: number;
}): Promise<E2eHost> {
  const folders = options.folders ?? [PHOTOS, options.models.folder];
  const child = spawn(
    process.execPath,
    [
      path.join(REPO, 'src-main/host/main.ts'),
      '--data-dir',
      options.dataDir,
      '--port',
      String(options.port ?? 0),
      ...folders.flatMap((f) => ['--folder', f]),
    ],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Through NODE_OPTIONS so the engine process the host forks recognises the tiny checkpoint too.
      env: {
        ...process.env,
        NODE_OPTIONS: `--import tsx --import ${pathToFileURL(path.join(REPO, 'tests/support/use-tiny-presets.ts')).href}`,
        HEIRLOOM_MODEL_MANIFEST: options.models.manifest,
      },
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the host exited (${code}) before it started: ${stderr}`)));
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    token,
    address: `${url}/?token=${token}`,
    child,
    async api(route, input = {}) {
      const res = await fetch(`${url}/api/${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      const body = (await res.json()) as { ok: boolean; value?: unknown; error?: { message: string } };
      if (!body.ok) throw new Error(`${route}: ${body.error?.message}`);
      return body.value;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
