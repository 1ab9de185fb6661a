/*
 * `npm start`: builds the UI and the main process, then opens the desktop app. Where no window can open (a
 * server, a container, SSH without X forwarding), it says so at once and names the browser mode instead of
 * failing deep inside Electron.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..');

/** Why no window can open here, or null when one can. Linux needs an X or Wayland display; other OSes have one. */
export function noDisplayReason(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | null {
  if (platform !== 'linux') return null;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

export const USE_HOST =
  'Use Heirloom in your browser instead: run `npm run host` and open the address it prints ' +
  '(add `-- --folder <your photos folder>` to browse photos outside your home folder).';

function run(command: string, args: readonly string[]): number {
  const result = spawnSync(command, args, {
    cwd: REPO,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  return result.status ?? 1;
}

function main(): number {
  const reason = noDisplayReason(process.platform, process.env);
  if (reason !== null) {
    process.stderr.write(`heirloom: the desktop window cannot open: ${reason}.\n${USE_HOST}\n`);
    return 1;
  }
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  for (const step of ['build:ui', 'build:main']) {
    if (run(npm, ['run', '--silent', step]) !== 0) {
      process.stderr.write(`heirloom: \`npm run ${step}\` failed (above).\n`);
      return 1;
    }
  }
  // The electron package fetches its binary on first use; offline, that fails with its own message above ours.
  const electron = path.join(
    REPO,
    'node_modules/.bin',
    process.platform === 'win32' ? 'electron.cmd' : 'electron',
  );
  const status = run(electron, ['.']);
  if (status !== 0)
    process.stderr.write(`heirloom: the desktop app stopped (exit ${status}).\n${USE_HOST}\n`);
  return status;
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) process.exitCode = main();
