import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Licence } from '../../src-main/contract/dto.ts';
import { licencesOfModules, licencesPlugin, packageDirOf } from '../../src-renderer/licences-plugin.ts';
import { tempDir } from '../support/temp.ts';

/* The renderer build's list of the packages bundled into the UI (build/renderer/licences.json). */

function writePackage(dir: string, pkg: object, files: Record<string, string> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

/** A project with svelte (and its nested esm-env), a scoped package, and pnpm's layout for one more. */
function project(): string {
  const root = tempDir();
  const modules = path.join(root, 'node_modules');
  writePackage(
    path.join(modules, 'svelte'),
    { name: 'svelte', version: '5.1.0', license: 'MIT', repository: 'github:sveltejs/svelte' },
    { 'LICENSE.md': 'Copyright (c) 2016-2025 Svelte Contributors' },
  );
  writePackage(path.join(modules, 'svelte', 'node_modules', 'esm-env'), {
    name: 'esm-env',
    version: '1.2.2',
    license: 'MIT',
  });
  writePackage(
    path.join(modules, '@fontsource', 'inter'),
    { name: '@fontsource/inter', version: '5.0.0', license: 'OFL-1.1', homepage: 'https://fontsource.org/' },
    { LICENSE: 'SIL Open Font License' },
  );
  writePackage(path.join(modules, '.pnpm', 'clsx@2.1.1', 'node_modules', 'clsx'), {
    name: 'clsx',
    version: '2.1.1',
    licenses: [{ type: 'MIT' }],
  });
  return root;
}

test('a module id names the package it lies in, whatever the layout; our own modules name none', () => {
  for (const [id, dir] of [
    ['/p/node_modules/svelte/src/index.js', '/p/node_modules/svelte'],
    [
      '/p/node_modules/svelte/node_modules/esm-env/index.js?v=3',
      '/p/node_modules/svelte/node_modules/esm-env',
    ],
    ['/p/node_modules/@fontsource/inter/index.css?inline', '/p/node_modules/@fontsource/inter'],
    [
      '/p/node_modules/.pnpm/clsx@2.1.1/node_modules/clsx/dist/clsx.mjs',
      '/p/node_modules/.pnpm/clsx@2.1.1/node_modules/clsx',
    ],
    ['\0/p/node_modules/svelte/src/internal/index.js?commonjs-proxy', '/p/node_modules/svelte'],
    ['C:\\p\\node_modules\\svelte\\src\\index.js', 'C:/p/node_modules/svelte'],
    ['/p/src-renderer/src/App.svelte', undefined],
    ['\0vite/preload-helper.js', undefined],
    ['/p/node_modules/.vite/deps/chunk.js', undefined],
  ] as const) {
    assert.equal(packageDirOf(id), dir, id);
  }
});

test('the bundled modules give each package once, sorted, with its licence, text and homepage', async () => {
  const root = project();
  const at = (relative: string) => path.join(root, relative);
  const licences = await licencesOfModules([
    at('node_modules/svelte/src/index-client.js'),
    at('node_modules/svelte/src/internal/client/runtime.js'),
    at('node_modules/svelte/node_modules/esm-env/browser.js'),
    `${at('node_modules/@fontsource/inter/index.css')}?inline`,
    at('node_modules/.pnpm/clsx@2.1.1/node_modules/clsx/dist/clsx.mjs'),
    at('src-renderer/src/App.svelte'),
    '\0vite/preload-helper.js',
  ]);
  assert.deepEqual(licences, [
    {
      name: '@fontsource/inter',
      version: '5.0.0',
      license: 'OFL-1.1',
      part: 'ui',
      text: 'SIL Open Font License',
      homepage: 'https://fontsource.org/',
    },
    { name: 'clsx', version: '2.1.1', license: 'MIT', part: 'ui', text: null, homepage: null },
    { name: 'esm-env', version: '1.2.2', license: 'MIT', part: 'ui', text: null, homepage: null },
    {
      name: 'svelte',
      version: '5.1.0',
      license: 'MIT',
      part: 'ui',
      text: 'Copyright (c) 2016-2025 Svelte Contributors',
      homepage: 'https://github.com/sveltejs/svelte',
    },
  ] satisfies Licence[]);
});

test('the plugin emits licences.json for the modules rendered into the chunks, not those shaken out', async () => {
  const root = project();
  const plugin = licencesPlugin();
  const emitted: { type: string; fileName?: string; source?: unknown }[] = [];
  const rendered = (length: number) => ({ renderedLength: length });
  const bundle = {
    'assets/index.js': {
      type: 'chunk',
      modules: {
        [path.join(root, 'node_modules/svelte/src/index-client.js')]: rendered(1200),
        [path.join(root, 'node_modules/@fontsource/inter/index.js')]: rendered(0),
        [path.join(root, 'src-renderer/src/main.ts')]: rendered(300),
      },
    },
    'assets/lazy.js': {
      type: 'chunk',
      modules: { [path.join(root, 'node_modules/svelte/node_modules/esm-env/browser.js')]: rendered(40) },
    },
    'assets/index.css': { type: 'asset', source: 'body {}' },
  };
  const hook = plugin.generateBundle;
  assert.equal(typeof hook, 'function');
  // The hook as Vite calls it, with the part of its context it uses.
  const context = { emitFile: (file: (typeof emitted)[number]) => emitted.push(file) };
  await (hook as unknown as (this: typeof context, options: object, bundle: object) => Promise<void>).call(
    context,
    {},
    bundle,
  );
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]!.type, 'asset');
  assert.equal(emitted[0]!.fileName, 'licences.json');
  const listed = JSON.parse(String(emitted[0]!.source)) as Licence[];
  assert.deepEqual(
    listed.map((l) => `${l.name}@${l.version} ${l.part}`),
    ['esm-env@1.2.2 ui', 'svelte@5.1.0 ui'],
  );
  assert.equal(plugin.apply, 'build');
});
