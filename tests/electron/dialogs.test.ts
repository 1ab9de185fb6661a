import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import { openDialogOptions, pickPaths } from '../../src-main/electron/dialogs.ts';
import { shellLicences } from '../../src-main/electron/licences.ts';
import { tempDir } from '../support/temp.ts';
import { FakeDialog } from './fakes.ts';

/* The desktop shell's system dialogs (dialog.pick) and its own licences (Electron, Chromium). */

test('photos: several at once (folders too on macOS, whose dialog can do both), filtered to the photos Heirloom reads', () => {
  const options = openDialogOptions('photos', 'darwin');
  assert.deepEqual(options.properties, ['openFile', 'openDirectory', 'multiSelections']);
  for (const platform of ['win32', 'linux'] as const) {
    assert.deepEqual(openDialogOptions('photos', platform).properties, ['openFile', 'multiSelections']);
  }
  assert.deepEqual(options.filters, [
    { name: 'Photos', extensions: ['jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff', 'gif'] },
  ]);
});

test("on Linux each extension is given in upper case too: GTK's filters would hide IMG_0001.JPG", () => {
  const [photos] = openDialogOptions('photos', 'linux').filters!;
  assert.deepEqual(photos!.extensions, [
    ...['jpg', 'jpeg', 'png', 'webp', 'tif', 'tiff', 'gif'],
    ...['JPG', 'JPEG', 'PNG', 'WEBP', 'TIF', 'TIFF', 'GIF'],
  ]);
  assert.deepEqual(openDialogOptions('model', 'linux').filters![0]!.extensions, [
    'onnx',
    'pth',
    'ONNX',
    'PTH',
  ]);
});

test('folder: one folder, which may be made there; model: one .onnx or .pth file', () => {
  assert.deepEqual(openDialogOptions('folder', 'win32').properties, ['openDirectory', 'createDirectory']);
  assert.equal(openDialogOptions('folder', 'win32').filters, undefined);
  const model = openDialogOptions('model', 'win32');
  assert.deepEqual(model.properties, ['openFile']);
  assert.deepEqual(model.filters, [{ name: 'Models', extensions: ['onnx', 'pth'] }]);
});

test('the dialog opens on the window given and answers the paths chosen, or none when closed', async () => {
  const dialog = new FakeDialog();
  const window = { name: 'main window' };
  dialog.answer = { canceled: false, filePaths: ['/home/ada/a.jpg', '/home/ada/1962'] };
  assert.deepEqual(await pickPaths(dialog, window, 'photos', 'linux'), ['/home/ada/a.jpg', '/home/ada/1962']);
  assert.equal(dialog.opened[0]!.window, window);
  assert.deepEqual(dialog.opened[0]!.options, openDialogOptions('photos', 'linux'));
  dialog.answer = { canceled: true, filePaths: ['/ignored'] };
  assert.deepEqual(await pickPaths(dialog, window, 'folder'), []);
  await assert.rejects(
    pickPaths(dialog, undefined, 'folder'),
    (error: unknown) =>
      error instanceof AppError && error.code === 'CONFLICT' && /no window/.test(error.message),
  );
  assert.equal(dialog.opened.length, 2, 'no dialog without a window');
});

test('Electron and Chromium are listed with their versions and the licence files beside the binary', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'Copyright (c) Electron contributors');
  fs.writeFileSync(path.join(dir, 'LICENSES.chromium.html'), '<html>…</html>');
  const [electron, chromium] = shellLicences({
    versions: { electron: '45.5.0', chrome: '140.0.7339.0' },
    execPath: path.join(dir, 'heirloom'),
  });
  assert.deepEqual(electron, {
    name: 'Electron',
    version: '45.5.0',
    license: 'MIT',
    part: 'desktop shell',
    text: 'Copyright (c) Electron contributors',
    homepage: 'https://www.electronjs.org/',
  });
  assert.deepEqual(
    [chromium?.name, chromium?.version, chromium?.part],
    ['Chromium', '140.0.7339.0', 'desktop shell'],
  );
  assert.match(chromium?.text ?? '', new RegExp(`in ${path.join(dir, 'LICENSES.chromium.html')}$`));

  // A packaged app names Electron's licence LICENSE.electron.txt; without the files there is no text.
  fs.writeFileSync(path.join(dir, 'LICENSE.electron.txt'), 'packaged');
  assert.equal(shellLicences({ versions: {}, execPath: path.join(dir, 'x') })[0]!.text, 'packaged');
  const bare = shellLicences({ versions: {}, execPath: path.join(tempDir(), 'x') });
  assert.deepEqual(
    bare.map((l) => [l.version, l.text]),
    [
      ['unknown', null],
      ['unknown', null],
    ],
  );
});
