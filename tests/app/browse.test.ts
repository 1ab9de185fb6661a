import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Licence } from '../../src-main/contract/dto.ts';
import { createCore, type Core, type CorePorts } from '../../src-main/core/app.ts';
import { tempDir } from '../support/temp.ts';

/*
 * Where paths come from: the system's dialogs where the host has them (the desktop app), the core's own folder
 * listing where it has not (the browser mode); and what the app ships, for the About box. No engine is needed.
 */

const cores: Core[] = [];
after(() => Promise.all(cores.map((c) => c.close())));

function core(
  ports: Partial<CorePorts> = {},
  config: { browseRoots?: string[]; shellLicences?: Licence[] } = {},
) {
  const made = createCore(
    { dataDir: tempDir(), version: '0.0.0-test', ...config },
    {
      spawnEngine: () => {
        throw new Error('no engine in these tests');
      },
      mediaUrl: (id) => `/media/${id}`,
      ...ports,
    },
  );
  cores.push(made);
  return made;
}

test('without system dialogs (the Node host) app.info says so and dialog.pick is refused in words', async () => {
  const browser = core();
  assert.equal((await browser.dispatch('app.info', {})).nativeDialogs, false);
  await assert.rejects(browser.dispatch('dialog.pick', { kind: 'photos' }), {
    code: 'CONFLICT',
    message: /no system dialogs in the browser mode: browse with folder\.list/,
  });
});

test("with the host's dialogs (the desktop app) dialog.pick answers the paths chosen, by kind", async () => {
  const asked: string[] = [];
  const desktop = core({
    pickPaths: async (kind) => {
      asked.push(kind);
      return kind === 'folder' ? ['/home/ada/Exports'] : [];
    },
  });
  assert.equal((await desktop.dispatch('app.info', {})).nativeDialogs, true);
  assert.deepEqual(await desktop.dispatch('dialog.pick', { kind: 'folder' }), {
    paths: ['/home/ada/Exports'],
  });
  assert.deepEqual(await desktop.dispatch('dialog.pick', { kind: 'photos' }), { paths: [] });
  await assert.rejects(desktop.dispatch('dialog.pick', { kind: 'video' }), { code: 'INVALID_INPUT' });
  assert.deepEqual(asked, ['folder', 'photos']);
});

test('folder.list browses the roots the host was given, and refuses what is outside them', async () => {
  const root = fs.realpathSync(tempDir());
  fs.mkdirSync(path.join(root, '1962'));
  fs.writeFileSync(path.join(root, 'wedding.jpg'), 'x');
  const browser = core({}, { browseRoots: [root] });
  const listing = await browser.dispatch('folder.list', { path: root });
  assert.deepEqual(
    [listing.folders.map((f) => f.name), listing.files.map((f) => f.name), listing.parent],
    [['1962'], ['wedding.jpg'], null],
  );
  assert.ok(listing.roots.some((r) => r.path === root));
  const outside = fs.realpathSync(tempDir());
  await assert.rejects(browser.dispatch('folder.list', { path: outside }), {
    code: 'INVALID_INPUT',
    message: new RegExp(`${outside} is outside`),
  });
});

test("app.licences lists the app's packages, the shell's and the models, once collected", async () => {
  const shell: Licence[] = [
    {
      name: 'Electron',
      version: '45.5.0',
      license: 'MIT',
      part: 'desktop shell',
      text: 'Copyright (c) Electron contributors',
      homepage: 'https://www.electronjs.org/',
    },
  ];
  const desktop = core({}, { shellLicences: shell });
  const first = await desktop.dispatch('app.licences', {});
  const parts = new Set(first.map((l) => l.part));
  assert.ok(parts.has('app') && parts.has('desktop shell') && parts.has('model'), [...parts].join(', '));
  assert.ok(first.some((l) => l.part === 'app' && l.name === 'better-sqlite3' && l.license === 'MIT'));
  assert.deepEqual(
    first.filter((l) => l.part === 'desktop shell'),
    shell,
  );
  assert.equal(await desktop.dispatch('app.licences', {}), first, 'the same list, not collected again');
  // The Node host has no shell to list.
  assert.ok(!(await core().dispatch('app.licences', {})).some((l) => l.part === 'desktop shell'));
});
