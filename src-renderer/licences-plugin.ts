import type { Plugin } from 'vite';
import type { Licence } from '../src-main/contract/dto.ts';
import { packageLicence, readPackageJson } from '../src-main/core/licences.ts';

/*
 * The UI's part of the About box: the packages whose code is in the built renderer, with their licences, written
 * as build/renderer/licences.json for the core's `app.licences`. Only what the bundle holds counts: a package
 * whose every module was tree-shaken away ships nothing. This runs in Vite (Node) at build time and reads what
 * each package ships, the same way the core reads the main process's packages.
 */

/** The folder of the package a module id lies in (`…/node_modules/@scope/name`), or undefined for our own. */
export function packageDirOf(id: string): string | undefined {
  // Rollup's virtual modules start with \0; Vite adds queries (`?v=…`, `?inline`).
  const file = id.replace(/^\0+/, '').split('?')[0]!.replaceAll('\\', '/');
  const marker = '/node_modules/';
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const segments = file.slice(at + marker.length).split('/');
  const name = segments[0]?.startsWith('@') ? segments.slice(0, 2) : segments.slice(0, 1);
  if (name.length === 0 || name.some((segment) => segment === '' || segment.startsWith('.')))
    return undefined;
  return `${file.slice(0, at)}${marker}${name.join('/')}`;
}

const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * The packages the modules `ids` come from, each once (by name and version), sorted by name: what the bundle
 * ships. Ids outside any node_modules (our sources, virtual modules) are ours and not listed.
 */
export async function licencesOfModules(ids: Iterable<string>): Promise<Licence[]> {
  const dirs = new Set<string>();
  for (const id of ids) {
    const dir = packageDirOf(id);
    if (dir !== undefined) dirs.add(dir);
  }
  const found = new Map<string, Licence>();
  for (const dir of [...dirs].sort()) {
    const pkg = await readPackageJson(dir);
    if (pkg === undefined)
      throw new Error(`licences: cannot read ${dir}/package.json, though the bundle holds its code`);
    const licence = await packageLicence(pkg, dir, 'ui');
    const key = `${licence.name}@${licence.version}`;
    if (!found.has(key)) found.set(key, licence);
  }
  return [...found.values()].sort(
    (a, b) => byName.compare(a.name, b.name) || byName.compare(a.version, b.version),
  );
}

/** The name of the asset, beside index.html; the core reads it from build/renderer. */
export const LICENCES_FILE = 'licences.json';

/**
 * Vite plugin: at the end of a build, lists the packages of the modules rendered into the bundle's chunks and
 * emits them as `licences.json`.
 */
export function licencesPlugin(): Plugin {
  return {
    name: 'heirloom-licences',
    apply: 'build',
    async generateBundle(_options, bundle) {
      const ids = Object.values(bundle).flatMap((output) =>
        output.type === 'chunk'
          ? Object.entries(output.modules)
              .filter(([, module]) => module.renderedLength > 0)
              .map(([id]) => id)
          : [],
      );
      this.emitFile({
        type: 'asset',
        fileName: LICENCES_FILE,
        source: `${JSON.stringify(await licencesOfModules(ids), null, 2)}\n`,
      });
    },
  };
}
