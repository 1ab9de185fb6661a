import fs from 'node:fs';
import path from 'node:path';
import type { Licence } from '../contract/dto.ts';

/** What the shell reads of its process: Electron's `process`, a stand-in in tests. */
export interface ShellRuntime {
  readonly versions: { readonly electron?: string; readonly chrome?: string };
  readonly execPath: string;
}

function readBeside(dir: string, ...names: string[]): string | null {
  for (const name of names) {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8');
    } catch {
      // The next name: a packaged app and Electron's own folder name the file differently.
    }
  }
  return null;
}

/**
 * Electron and Chromium, for the About box. Their licence files ship beside the Electron binary
 * (`LICENSE.electron.txt` in a packaged app, `LICENSE` in Electron's own folder, and `LICENSES.chromium.html`,
 * some megabytes of Chromium's components' licences, which the About box points to rather than holds).
 */
export function shellLicences(runtime: ShellRuntime): Licence[] {
  const dir = path.dirname(runtime.execPath);
  const chromium = path.join(dir, 'LICENSES.chromium.html');
  return [
    {
      name: 'Electron',
      version: runtime.versions.electron ?? 'unknown',
      license: 'MIT',
      part: 'desktop shell',
      text: readBeside(dir, 'LICENSE.electron.txt', 'LICENSE'),
      homepage: 'https://www.electronjs.org/',
    },
    {
      name: 'Chromium',
      version: runtime.versions.chrome ?? 'unknown',
      license: 'BSD-3-Clause and the licences of its components',
      part: 'desktop shell',
      text: fs.existsSync(chromium)
        ? `Chromium's licence and those of the components it includes are in ${chromium}`
        : null,
      homepage: 'https://www.chromium.org/',
    },
  ];
}
