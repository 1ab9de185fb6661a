import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Licence } from '../contract/dto.ts';
import { AppError } from '../contract/errors.ts';
import { isHttpUrl, readManifest, type ModelEntry } from './models/manifest.ts';

/*
 * Every component the app ships, with its licence, for the About box: the main process's packages (the
 * production dependency tree, walked as Node resolves it), the UI's bundled packages (listed by the renderer's
 * build), the models, and the desktop shell (Electron and Chromium, told by the shell).
 */

export interface LicenceSources {
  /** The app's folder: package.json, node_modules, build/renderer/licences.json. */
  readonly root: string;
  /** The model manifest (models/manifest.json unless another is given). */
  readonly manifest?: string;
  /** Electron and Chromium, from the desktop shell; none under the Node host. */
  readonly shell?: readonly Licence[];
}

const PART_ORDER: readonly Licence['part'][] = ['app', 'ui', 'desktop shell', 'model'];
const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** All of them, by part (app, ui, desktop shell, model), then name, then version. */
export async function collectLicences(sources: LicenceSources): Promise<Licence[]> {
  const all = [
    ...(await appLicences(sources.root)),
    ...(await uiLicences(path.join(sources.root, 'build', 'renderer', 'licences.json'))),
    ...(sources.shell ?? []),
    ...modelLicences(readManifest(sources.manifest)),
  ];
  return all.sort(
    (a, b) =>
      PART_ORDER.indexOf(a.part) - PART_ORDER.indexOf(b.part) ||
      byName.compare(a.name, b.name) ||
      byName.compare(a.version, b.version),
  );
}

type PackageJson = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The package.json in `dir`, or undefined when there is none that parses to an object. */
export async function readPackageJson(dir: string): Promise<PackageJson | undefined> {
  try {
    const json: unknown = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8'));
    return isRecord(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

function dependencyNames(pkg: PackageJson): string[] {
  // Optional ones are shipped when installed (sharp's platform binaries and libvips are optional dependencies).
  return [pkg.dependencies, pkg.optionalDependencies].flatMap((deps) =>
    isRecord(deps) ? Object.keys(deps) : [],
  );
}

/** Where `name` is found from `dir`, as Node looks: `node_modules` of `dir`, then of each folder above. */
async function resolvePackage(dir: string, name: string): Promise<string | undefined> {
  for (let at = dir; ; at = path.dirname(at)) {
    if (path.basename(at) !== 'node_modules') {
      const candidate = path.join(at, 'node_modules', name);
      if (
        await fs.stat(path.join(candidate, 'package.json')).then(
          (stat) => stat.isFile(),
          () => false,
        )
      ) {
        return candidate;
      }
    }
    if (path.dirname(at) === at) return undefined;
  }
}

/**
 * The production dependency tree from `root`'s package.json, each package once (by name and version), nested
 * node_modules included. A dependency that is not installed (an optional one for another platform) is not
 * shipped, and not listed.
 */
export async function appLicences(root: string): Promise<Licence[]> {
  const top = await readPackageJson(root);
  if (!top) throw new AppError('INTERNAL', `cannot read ${path.join(root, 'package.json')}`);
  const found = new Map<string, Licence>();
  const visited = new Set<string>();
  const queue = dependencyNames(top).map((name) => ({ from: root, name }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    const dir = await resolvePackage(next.from, next.name);
    const real = dir === undefined ? undefined : await fs.realpath(dir).catch(() => undefined);
    if (real === undefined || visited.has(real)) continue;
    visited.add(real);
    const pkg = await readPackageJson(real);
    if (!pkg) continue;
    const licence = await packageLicence(pkg, real, 'app');
    const key = `${licence.name}@${licence.version}`;
    if (!found.has(key)) found.set(key, licence);
    // Resolved from where the package really is, as Node does (links followed).
    for (const name of dependencyNames(pkg)) queue.push({ from: real, name });
  }
  return [...found.values()];
}

/**
 * LICENSE, LICENCE or COPYING in any case, bare or with an extension (.md, .txt, or a licence's name: rc ships
 * LICENSE.MIT, LICENSE.BSD and LICENSE.APACHE2 for its three), never a source file.
 */
const LICENCE_FILE = /^(?:licen[cs]e|copying)(?:[.-][\w.-]+)?$/i;
const SOURCE_FILE = /\.(?:[cm]?js|[cm]?ts|json|map)$/i;

/** The package's licence files, all of them (a dual licence ships two), or the one its `license` names. */
async function licenceText(dir: string, declared: string): Promise<string | null> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const files = names.filter((name) => LICENCE_FILE.test(name) && !SOURCE_FILE.test(name)).sort();
  // npm's `"license": "SEE LICENSE IN <file>"` names the file itself.
  const named = /^SEE LICEN[CS]E IN (.+)$/i.exec(declared)?.[1]?.trim();
  if (files.length === 0 && named && path.basename(named) === named) files.push(named);
  const texts: { file: string; text: string }[] = [];
  for (const file of files) {
    const text = await fs.readFile(path.join(dir, file), 'utf8').catch(() => undefined);
    if (text !== undefined) texts.push({ file, text });
  }
  if (texts.length <= 1) return texts[0]?.text ?? null;
  return texts.map(({ file, text }) => `${file}\n\n${text.trim()}\n`).join('\n');
}

/** The `license` field (an SPDX expression), an old `{type}` object, or an old `licenses` array. */
function declaredLicence(pkg: PackageJson): string {
  const typeOf = (value: unknown): string | undefined =>
    typeof value === 'string'
      ? value.trim() || undefined
      : isRecord(value) && typeof value.type === 'string'
        ? value.type
        : undefined;
  const license = typeOf(pkg.license);
  if (license) return license;
  const licenses = Array.isArray(pkg.licenses) ? pkg.licenses.map(typeOf).filter((t) => t !== undefined) : [];
  if (licenses.length === 1) return licenses[0]!;
  if (licenses.length > 1) return `(${licenses.join(' OR ')})`;
  return 'UNKNOWN';
}

/** A repository as package.json gives it (`user/repo`, `github:user/repo`, `git+https://…git`, `git@host:…`). */
export function repositoryUrl(repository: string): string | null {
  const hosts: Record<string, string> = {
    github: 'github.com',
    gitlab: 'gitlab.com',
    bitbucket: 'bitbucket.org',
  };
  const short = /^(?:(github|gitlab|bitbucket):)?([\w.-]+\/[\w.-]+)$/.exec(repository);
  if (short) return `https://${hosts[short[1] ?? 'github']}/${short[2]!.replace(/\.git$/, '')}`;
  const url = repository
    .replace(/^git\+/, '')
    .replace(/^(?:git|ssh):\/\/(?:git@)?/, 'https://')
    .replace(/^git@([^:/]+):/, 'https://$1/')
    .replace(/\.git$/, '');
  return isHttpUrl(url) ? url : null;
}

function homepageOf(pkg: PackageJson): string | null {
  if (typeof pkg.homepage === 'string' && isHttpUrl(pkg.homepage)) return pkg.homepage;
  const repository = isRecord(pkg.repository) ? pkg.repository.url : pkg.repository;
  return typeof repository === 'string' ? repositoryUrl(repository) : null;
}

/** One package's entry, from its package.json and the licence file beside it. */
export async function packageLicence(pkg: PackageJson, dir: string, part: Licence['part']): Promise<Licence> {
  const license = declaredLicence(pkg);
  return {
    name: typeof pkg.name === 'string' ? pkg.name : path.basename(dir),
    version: typeof pkg.version === 'string' ? pkg.version : '',
    license,
    part,
    text: await licenceText(dir, license),
    homepage: homepageOf(pkg),
  };
}

const uiEntry = z.object({
  name: z.string(),
  version: z.string(),
  license: z.string(),
  text: z.string().nullable(),
  homepage: z.string().nullable(),
});

/**
 * What the renderer's build listed (src-renderer/licences-plugin.ts): none when the UI is not built. The file
 * ships with the app, so one that does not parse is our bug (INTERNAL), as a bad model manifest is.
 */
export async function uiLicences(file: string): Promise<Licence[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError('INTERNAL', `${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = z.array(uiEntry).safeParse(json);
  if (!parsed.success) throw new AppError('INTERNAL', `${file} is not a list of licences`);
  return parsed.data.map((entry) => ({ ...entry, part: 'ui' }));
}

/**
 * The models the app knows. Weights carry no version number of their own: the first digits of their published
 * sha256 name them exactly ('' for a checkpoint whose hash was never published).
 */
export function modelLicences(models: readonly ModelEntry[]): Licence[] {
  return models.map((model) => {
    const project = /^https:\/\/github\.com\/[^/]+\/[^/]+/.exec(model.source)?.[0];
    return {
      name: model.id,
      version: model.sha256?.slice(0, 12) ?? '',
      license: model.license,
      part: 'model',
      text: null,
      homepage: project ?? model.source,
    };
  });
}
