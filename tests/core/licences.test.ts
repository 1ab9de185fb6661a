import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Licence } from '../../src-main/contract/dto.ts';
import { appLicences, collectLicences, repositoryUrl } from '../../src-main/core/licences.ts';
import { readManifest } from '../../src-main/core/models/manifest.ts';
import { REPO } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

/* app.licences: every component shipped, with its licence, for the About box. */

/** A package at `dir` (relative to `root`): its package.json and other files. */
function writePackage(root: string, dir: string, pkg: object, files: Record<string, string> = {}): void {
  const at = path.join(root, dir);
  fs.mkdirSync(at, { recursive: true });
  fs.writeFileSync(path.join(at, 'package.json'), JSON.stringify(pkg));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(at, name), text);
}

/**
 * An app whose tree has what real trees have: a scoped package, two versions of one package (one nested), a
 * cycle, an optional dependency for another platform (not installed), a dev dependency (not shipped), old-style
 * licence fields and licence files of every spelling.
 */
function fakeApp(): string {
  const root = tempDir();
  writePackage(root, '.', {
    name: 'app',
    dependencies: { alpha: '^1', '@scope/beta': '^2' },
    optionalDependencies: { 'only-on-windows': '^1' },
    devDependencies: { 'test-runner': '^9' },
  });
  writePackage(
    root,
    'node_modules/alpha',
    {
      name: 'alpha',
      version: '1.2.3',
      license: 'MIT',
      repository: 'git+https://github.com/someone/alpha.git',
      dependencies: { gamma: '^1', '@scope/beta': '^2' },
    },
    { 'LICENSE.md': 'MIT License, alpha' },
  );
  writePackage(
    root,
    'node_modules/alpha/node_modules/gamma',
    {
      name: 'gamma',
      version: '1.0.0',
      license: { type: 'BSD-3-Clause' },
      repository: 'github:someone/gamma',
    },
    { 'copying.txt': 'BSD, gamma 1' },
  );
  writePackage(
    root,
    'node_modules/@scope/beta',
    {
      name: '@scope/beta',
      version: '2.0.0',
      licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }],
      homepage: 'https://beta.example/',
      repository: { type: 'git', url: 'git://github.com/scope/beta.git' },
      // Back to alpha: a cycle.
      dependencies: { alpha: '^1', gamma: '^2' },
    },
    { Licence: 'MIT or Apache, beta', 'LICENSE.js': 'module.exports = "not a licence"' },
  );
  writePackage(
    root,
    'node_modules/gamma',
    { name: 'gamma', version: '2.0.0', license: 'SEE LICENSE IN EULA.txt' },
    { 'EULA.txt': 'Gamma 2 end-user licence' },
  );
  writePackage(root, 'node_modules/test-runner', { name: 'test-runner', version: '9.0.0', license: 'ISC' });
  return root;
}

const key = (l: Licence) => `${l.name}@${l.version}`;

test("the app's part is its production dependency tree, each package once, with licence, text and homepage", async () => {
  const licences = await appLicences(fakeApp());
  assert.deepEqual(licences.map(key).sort(), [
    '@scope/beta@2.0.0',
    'alpha@1.2.3',
    'gamma@1.0.0',
    'gamma@2.0.0',
  ]);
  const by = new Map(licences.map((l) => [key(l), l]));
  assert.deepEqual(by.get('alpha@1.2.3'), {
    name: 'alpha',
    version: '1.2.3',
    license: 'MIT',
    part: 'app',
    text: 'MIT License, alpha',
    homepage: 'https://github.com/someone/alpha',
  });
  assert.deepEqual(
    [
      by.get('@scope/beta@2.0.0')?.license,
      by.get('@scope/beta@2.0.0')?.text,
      by.get('@scope/beta@2.0.0')?.homepage,
    ],
    ['(MIT OR Apache-2.0)', 'MIT or Apache, beta', 'https://beta.example/'],
  );
  // The nested copy is what alpha gets; the top one is what beta gets.
  assert.deepEqual(
    [by.get('gamma@1.0.0')?.license, by.get('gamma@1.0.0')?.text, by.get('gamma@1.0.0')?.homepage],
    ['BSD-3-Clause', 'BSD, gamma 1', 'https://github.com/someone/gamma'],
  );
  assert.deepEqual(
    [by.get('gamma@2.0.0')?.text, by.get('gamma@2.0.0')?.homepage],
    ['Gamma 2 end-user licence', null],
  );
});

test('a package with several licence files (a dual licence) gives them all, each under its name', async () => {
  const root = tempDir();
  writePackage(root, '.', { name: 'app', dependencies: { rc: '^1' } });
  writePackage(
    root,
    'node_modules/rc',
    { name: 'rc', version: '1.2.8', license: '(BSD-2-Clause OR MIT)' },
    { 'LICENSE.BSD': 'BSD text', 'LICENSE.MIT': 'MIT text' },
  );
  const [rc] = await appLicences(root);
  assert.equal(rc?.text, 'LICENSE.BSD\n\nBSD text\n\nLICENSE.MIT\n\nMIT text\n');
});

test('repositories in every form package.json allows become web addresses', () => {
  for (const [given, url] of [
    ['someone/project', 'https://github.com/someone/project'],
    ['gitlab:someone/project', 'https://gitlab.com/someone/project'],
    ['bitbucket:someone/project', 'https://bitbucket.org/someone/project'],
    ['git+https://github.com/someone/project.git', 'https://github.com/someone/project'],
    ['git://github.com/someone/project.git', 'https://github.com/someone/project'],
    ['git+ssh://git@github.com/someone/project.git', 'https://github.com/someone/project'],
    ['git@github.com:someone/project.git', 'https://github.com/someone/project'],
    ['https://example.org/project', 'https://example.org/project'],
    ['file:../project', null],
  ] as const) {
    assert.equal(repositoryUrl(given), url, given);
  }
});

test("this repository's list is exactly the production tree npm has installed, and every entry says its licence", async () => {
  const licences = await appLicences(REPO);
  const tree = JSON.parse(
    execFileSync('npm', ['ls', '--omit=dev', '--all', '--json'], { cwd: REPO, encoding: 'utf8' }),
  ) as { dependencies?: Record<string, NpmNode> };
  const installed = new Set<string>();
  const walk = (deps: Record<string, NpmNode> | undefined): void => {
    for (const [name, node] of Object.entries(deps ?? {})) {
      if (node.missing || !node.version) continue;
      installed.add(`${name}@${node.version}`);
      walk(node.dependencies);
    }
  };
  walk(tree.dependencies);
  assert.deepEqual(licences.map(key).sort(), [...installed].sort());
  assert.ok(!licences.some((l) => l.name === 'electron' || l.name === 'eslint'), 'no dev dependency');
  const sharp = licences.find((l) => l.name === 'sharp');
  assert.equal(sharp?.license, 'Apache-2.0');
  assert.match(sharp?.text ?? '', /Apache License/);
  assert.ok(
    licences.every((l) => l.license !== 'UNKNOWN' && l.homepage !== null),
    'all declared',
  );
});

interface NpmNode {
  readonly version?: string;
  readonly missing?: boolean;
  readonly dependencies?: Record<string, NpmNode>;
}

test('all the parts together: the app, the UI its build listed, the shell and the models, sorted by part and name', async () => {
  const root = fakeApp();
  const ui: Omit<Licence, 'part'>[] = [
    { name: 'svelte', version: '5.0.0', license: 'MIT', text: 'svelte', homepage: 'https://svelte.dev' },
    { name: 'clsx', version: '2.1.1', license: 'MIT', text: null, homepage: null },
  ];
  fs.mkdirSync(path.join(root, 'build', 'renderer'), { recursive: true });
  fs.writeFileSync(path.join(root, 'build', 'renderer', 'licences.json'), JSON.stringify(ui));
  const shell: Licence[] = [
    {
      name: 'Electron',
      version: '45.0.0',
      license: 'MIT',
      part: 'desktop shell',
      text: null,
      homepage: null,
    },
  ];
  const all = await collectLicences({ root, shell });
  assert.deepEqual(
    all.map((l) => `${l.part}: ${l.name}`),
    [
      'app: @scope/beta',
      'app: alpha',
      'app: gamma',
      'app: gamma',
      'ui: clsx',
      'ui: svelte',
      'desktop shell: Electron',
      ...readManifest()
        .map((m) => m.id)
        .sort()
        .map((id) => `model: ${id}`),
    ],
  );
  const codeformer = all.find((l) => l.name === 'codeformer');
  assert.deepEqual(codeformer, {
    name: 'codeformer',
    version: '1009e537e0c2',
    license: 'S-Lab License 1.0 (non-commercial use only)',
    part: 'model',
    text: null,
    homepage: 'https://github.com/sczhou/CodeFormer',
  });
  // Without a built UI there is no UI part; a broken list is our bug, said as such.
  fs.writeFileSync(path.join(root, 'build', 'renderer', 'licences.json'), '{"not": "a list"}');
  await assert.rejects(collectLicences({ root }), {
    code: 'INTERNAL',
    message: /licences\.json is not a list/,
  });
  fs.rmSync(path.join(root, 'build'), { recursive: true });
  assert.ok(!(await collectLicences({ root })).some((l) => l.part === 'ui'));
});
