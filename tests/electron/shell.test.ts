import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import { ENGINE_CONFIG_ENV } from '../../src-main/core/engine/protocol.ts';
import type { Reply } from '../../src-main/contract/index.ts';
import { INVOKE_CHANNEL } from '../../src-main/electron/channels.ts';
import type { ShellRuntime } from '../../src-main/electron/licences.ts';
import { startShell } from '../../src-main/electron/shell.ts';
import { coreFor } from '../support/core.ts';
import { tempDir } from '../support/temp.ts';
import { FakeEvent, FakeFrame, fakeElectron } from './fakes.ts';

/* The whole shell on a fake `electron`: what main.ts does, with a real core in a temporary data folder. */

const cores: Core[] = [];
after(() => Promise.all(cores.map((core) => core.close())));

async function start(prepare: (dataDir: string) => void = () => {}, hasLock = true, runtime?: ShellRuntime) {
  const root = tempDir();
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir);
  prepare(dataDir);
  const fake = fakeElectron(path.join(root, 'userData'));
  fake.electron.app.hasLock = hasLock;
  const logged: string[] = [];
  const paths = {
    dataDir,
    preload: '/app/build/src-main/electron/preload/index.js',
    engineEntry: '/app/build/src-main/core/engine-process/process.js',
    renderer: path.join(root, 'renderer'),
  };
  await startShell(fake.electron, paths, (line) => logged.push(line), runtime);
  const window = fake.windows[0];
  const call = (request: unknown, frame = window?.webContents.mainFrame): Promise<Reply> => {
    const contents = window!.webContents;
    return fake.electron.ipcMain.invoke(INVOKE_CHANNEL, contents.invokeEvent(frame), request);
  };
  /** Emits before-quit as Electron does; true when the quit was held back. */
  const beforeQuit = (): boolean => {
    const event = new FakeEvent();
    fake.electron.app.emit('before-quit', event);
    return event.defaultPrevented;
  };
  return { ...fake, root, dataDir, logged, window, call, beforeQuit };
}

/** Until the shell's own close has run and it has quit. */
async function quitted(app: { quits: unknown[] }): Promise<void> {
  while (!app.quits.includes('quit')) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('the shell starts', () => {
  test('privileges, sandbox and the lock come before ready; then one guarded window on app://heirloom', async () => {
    const { calls, electron, windows, window, beforeQuit } = await start();
    assert.deepEqual(calls, [
      'registerSchemesAsPrivileged',
      'enableSandbox',
      'requestSingleInstanceLock',
      'ready',
    ]);
    assert.deepEqual(
      electron.protocol.privileged.map((s) => s.scheme),
      ['app'],
    );
    assert.deepEqual([...electron.protocol.handlers.keys()], ['app']);
    assert.deepEqual([...electron.ipcMain.handlers.keys()], [INVOKE_CHANNEL]);
    assert.equal(windows.length, 1);
    const prefs = window!.options.webPreferences;
    assert.deepEqual(
      [prefs?.contextIsolation, prefs?.sandbox, prefs?.nodeIntegration, prefs?.devTools],
      [true, true, false, false],
    );
    assert.equal(prefs?.preload, '/app/build/src-main/electron/preload/index.js');
    await Promise.resolve();
    assert.equal(window!.webContents.getURL(), 'app://heirloom/');
    // Guarded through app 'web-contents-created', as every web contents is.
    assert.equal(window!.webContents.navigates('will-frame-navigate', 'https://evil.example/'), false);
    assert.deepEqual(window!.webContents.windowOpenHandler?.(), { action: 'deny' });
    let granted: boolean | undefined;
    electron.session.defaultSession.permissionRequest?.({}, 'media', (answer) => (granted = answer));
    assert.equal(granted, false);
    beforeQuit();
    await quitted(electron.app);
  });

  test('the page calls the core over IPC; a foreign frame is refused', async () => {
    const { call, electron, beforeQuit } = await start();
    const made = await call({ route: 'album.create', input: { name: 'Wedding 1948' } });
    assert.equal(made.ok, true);
    const listed = await call({ route: 'album.list' });
    assert.equal(listed.ok && (listed.value as unknown[]).length, 1);
    await assert.rejects(call({ route: 'album.list' }, new FakeFrame('https://evil.example/')), /refused/);
    beforeQuit();
    await quitted(electron.app);
  });

  test('a second instance quits at once; the first comes to the front', async () => {
    const second = await start(undefined, false);
    assert.deepEqual(second.calls, [
      'registerSchemesAsPrivileged',
      'enableSandbox',
      'requestSingleInstanceLock',
    ]);
    assert.deepEqual(second.electron.app.quits, ['quit']);
    assert.equal(second.windows.length, 0);

    const first = await start();
    first.window!.minimized = true;
    first.electron.app.emit('second-instance');
    assert.deepEqual(first.window!.calls, ['restore', 'focus']);
    first.beforeQuit();
    await quitted(first.electron.app);
  });

  test('a library that cannot be opened is explained in a dialog, left as it was, and the app exits', async () => {
    const junk = Buffer.from('this is not a Heirloom library, and must stay byte for byte as it is');
    const { errors, electron, windows, dataDir } = await start((dir) =>
      fs.writeFileSync(path.join(dir, 'library.db'), junk),
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.title, /cannot open its library/);
    assert.ok(errors[0]!.content.length > 0);
    assert.deepEqual(electron.app.quits, [1]);
    assert.equal(windows.length, 0);
    assert.deepEqual(fs.readFileSync(path.join(dataDir, 'library.db')), junk);
  });
});

describe('the shell quits', () => {
  test('running jobs are interrupted and the engine ends before the app quits; media are app:// URLs', async () => {
    const { call, electron, beforeQuit, root, dataDir } = await start();
    const photos = path.join(root, 'photos');
    fs.mkdirSync(photos);
    fs.writeFileSync(path.join(photos, 'grandma.jpg'), 'not really a jpeg');
    const album = await call({ route: 'album.create', input: { name: 'Grandma' } });
    const albumId = album.ok ? (album.value as { id: number }).id : 0;
    const imported = await call({ route: 'photo.import', input: { albumId, paths: [photos] } });
    assert.ok(imported.ok, JSON.stringify(imported));
    const jobId = (imported.value as { jobId: number }).jobId;
    const listed = await call({ route: 'photo.list', input: { albumId } });
    assert.ok(listed.ok);
    assert.match((listed.value as { url: string }[])[0]!.url, /^app:\/\/heirloom\/media\/photo\/\d+$/);

    // The detection job asks for the engine: a utility process of the built entry, told where the models are.
    while (electron.utilityProcess.forks.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const fork = electron.utilityProcess.forks[0]!;
    assert.equal(fork.modulePath, '/app/build/src-main/core/engine-process/process.js');
    assert.deepEqual(
      JSON.parse((fork.options?.env as Record<string, string> | undefined)?.[ENGINE_CONFIG_ENV] ?? '{}'),
      {
        detector: path.join(dataDir, 'models', 'face_detection_yunet_2026may.onnx'),
        restorer: path.join(dataDir, 'models', 'codeformer'),
        parser: path.join(dataDir, 'models', 'parsenet'),
        retinaface: path.join(dataDir, 'models', 'retinaface-r50'),
        background: path.join(dataDir, 'models', 'realesrgan-x2plus'),
        colorizer: path.join(dataDir, 'models', 'codeformer-colorization'),
        inpainter: path.join(dataDir, 'models', 'codeformer-inpainting'),
        dataDir,
      },
    );

    assert.equal(beforeQuit(), true, 'the first quit is held while the core closes');
    assert.equal(beforeQuit(), true, 'and so is a second one meanwhile');
    await quitted(electron.app);
    assert.deepEqual(electron.app.quits, ['quit']);
    assert.equal(fork.child.kills, 1);
    assert.equal(beforeQuit(), false, 'once closed, the quit goes through');

    const again = coreFor(dataDir, { detector: '/none', restorer: '/none' });
    cores.push(again);
    assert.equal((await again.dispatch('job.get', { jobId })).state, 'interrupted');
  });

  test('closing the last window quits (on Linux and Windows)', async () => {
    const { electron, beforeQuit } = await start();
    electron.app.emit('window-all-closed');
    assert.deepEqual(electron.app.quits, process.platform === 'darwin' ? [] : ['quit']);
    beforeQuit();
    await quitted(electron.app);
  });
});

describe('the shell gives the core its dialogs and its licences', () => {
  test('dialog.pick opens the system dialog on the main window and answers what was chosen', async () => {
    const { call, electron, window, beforeQuit } = await start();
    const info = await call({ route: 'app.info' });
    assert.equal(info.ok && (info.value as { nativeDialogs: boolean }).nativeDialogs, true);
    electron.dialog.answer = { canceled: false, filePaths: ['/home/ada/Scans'] };
    assert.deepEqual(await call({ route: 'dialog.pick', input: { kind: 'folder' } }), {
      ok: true,
      value: { paths: ['/home/ada/Scans'] },
    });
    assert.equal(electron.dialog.opened[0]!.window, window);
    assert.deepEqual(electron.dialog.opened[0]!.options.properties, ['openDirectory', 'createDirectory']);
    electron.dialog.answer = { canceled: true, filePaths: [] };
    assert.deepEqual(await call({ route: 'dialog.pick', input: { kind: 'photos' } }), {
      ok: true,
      value: { paths: [] },
    });
    beforeQuit();
    await quitted(electron.app);
  });

  test("app.licences lists Electron and Chromium as the running binary's folder ships them", async () => {
    const binary = tempDir();
    fs.writeFileSync(path.join(binary, 'LICENSE'), 'Copyright (c) Electron contributors');
    fs.writeFileSync(path.join(binary, 'LICENSES.chromium.html'), '<html></html>');
    const runtime = {
      versions: { electron: '45.5.0', chrome: '140.0.7339.0' },
      execPath: path.join(binary, 'heirloom'),
    };
    const { call, electron, beforeQuit } = await start(undefined, true, runtime);
    const reply = await call({ route: 'app.licences' });
    assert.ok(reply.ok, JSON.stringify(reply));
    const shell = (
      reply.value as { part: string; name: string; version: string; text: string | null }[]
    ).filter((l) => l.part === 'desktop shell');
    assert.deepEqual(
      shell.map((l) => [l.name, l.version]),
      [
        ['Chromium', '140.0.7339.0'],
        ['Electron', '45.5.0'],
      ],
    );
    assert.equal(shell[1]!.text, 'Copyright (c) Electron contributors');
    beforeQuit();
    await quitted(electron.app);
  });
});
