import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  createMainWindow,
  guardContents,
  guardSession,
  SECURE_WEB_PREFERENCES,
} from '../../src-main/electron/window.ts';
import { DEFAULT_STATE, readWindowState, visibleBounds } from '../../src-main/electron/window-state.ts';
import { tempDir } from '../support/temp.ts';
import { FakeContents, FakeEvent, FakeSession, FakeWindow } from './fakes.ts';

/* The window and its defences (ARCHITECTURE.md rule 5), and where it opens. */

const screen = { getDisplayMatching: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }) };

function open(state = DEFAULT_STATE) {
  const stateFile = path.join(tempDir(), 'window-state.json');
  const window = createMainWindow(FakeWindow, {
    preload: '/app/preload/index.js',
    state,
    stateFile,
    screen,
    devTools: false,
  });
  return { window, stateFile };
}

describe('the window', () => {
  test('runs its page isolated, sandboxed, without Node, with web security, through the preload', () => {
    const prefs = open().window.options.webPreferences;
    assert.equal(prefs?.contextIsolation, true);
    assert.equal(prefs?.sandbox, true);
    assert.equal(prefs?.nodeIntegration, false);
    assert.equal(prefs?.nodeIntegrationInWorker, false);
    assert.equal(prefs?.nodeIntegrationInSubFrames, false);
    assert.equal(prefs?.webSecurity, true);
    assert.equal(prefs?.allowRunningInsecureContent, false);
    assert.equal(prefs?.webviewTag, false);
    assert.equal(prefs?.spellcheck, false);
    assert.equal(prefs?.devTools, false);
    assert.equal(prefs?.preload, '/app/preload/index.js');
    assert.deepEqual(
      { ...prefs, devTools: undefined, preload: undefined },
      {
        ...SECURE_WEB_PREFERENCES,
        devTools: undefined,
        preload: undefined,
      },
    );
  });

  test('loads app://heirloom/ and shows itself once painted', async () => {
    const { window } = open();
    await Promise.resolve();
    assert.equal(window.webContents.getURL(), 'app://heirloom/');
    assert.deepEqual(window.calls, []);
    window.emit('ready-to-show');
    assert.deepEqual(window.calls, ['show']);
  });

  test('opens where it was, maximized if it was, and saves its place when it closes', () => {
    const { window, stateFile } = open({ x: 100, y: 50, width: 1000, height: 700, maximized: true });
    assert.deepEqual(
      [window.options.x, window.options.y, window.options.width, window.options.height],
      [100, 50, 1000, 700],
    );
    assert.equal(window.maximized, false, 'maximize() would show the window before it has painted');
    window.emit('ready-to-show');
    assert.equal(window.maximized, true);
    window.emit('close');
    assert.deepEqual(JSON.parse(fs.readFileSync(stateFile, 'utf8')), {
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
      maximized: true,
    });
    assert.deepEqual(readWindowState(stateFile), {
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
      maximized: true,
    });
  });
});

describe('every web contents is held to our page', () => {
  test('new windows are denied', () => {
    const contents = new FakeContents();
    guardContents(contents);
    assert.deepEqual(contents.windowOpenHandler?.(), { action: 'deny' });
  });

  test('navigation and redirects away from app://heirloom are prevented, in any frame', () => {
    const contents = new FakeContents();
    guardContents(contents);
    for (const event of ['will-frame-navigate', 'will-redirect'] as const) {
      for (const url of [
        'https://evil.example/',
        'http://127.0.0.1:8080/',
        'file:///etc/passwd',
        'app://heirloom.evil/',
      ]) {
        assert.equal(contents.navigates(event, url), false, `${event} ${url}`);
      }
      assert.equal(contents.navigates(event, 'app://heirloom/'), true, event);
    }
  });

  test('a <webview> is never attached', () => {
    const contents = new FakeContents();
    guardContents(contents);
    const event = new FakeEvent();
    contents.emit('will-attach-webview', event);
    assert.equal(event.defaultPrevented, true);
  });
});

describe('the session', () => {
  test('denies every permission request and check', () => {
    const session = new FakeSession();
    guardSession(session);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      let granted: boolean | undefined;
      session.permissionRequest?.({}, permission, (answer) => (granted = answer));
      assert.equal(granted, false, permission);
    }
    assert.equal(session.permissionCheck?.(), false);
  });

  test('cancels every request that is not to our own schemes: nothing remote loads', () => {
    const session = new FakeSession();
    guardSession(session);
    const cancelled = (url: string): boolean | undefined => {
      let answer: boolean | undefined;
      session.beforeRequest?.({ url }, (response) => (answer = response.cancel));
      return answer;
    };
    for (const url of [
      'https://evil.example/x.js',
      'http://localhost/',
      'wss://evil.example/',
      'file:///etc/passwd',
      'ftp://x/',
    ]) {
      assert.equal(cancelled(url), true, url);
    }
    for (const url of [
      'app://heirloom/assets/a.js',
      'data:image/png;base64,AA',
      'blob:app://heirloom/1',
      'devtools://devtools/x',
    ]) {
      assert.equal(cancelled(url), false, url);
    }
  });
});

describe('window state', () => {
  test('a missing or damaged file gives the default, centred', () => {
    const dir = tempDir();
    assert.deepEqual(readWindowState(path.join(dir, 'none.json')), DEFAULT_STATE);
    for (const text of ['{', 'null', '[]', '{"width":"wide","height":5}', '{"width":1e9,"height":500}']) {
      fs.writeFileSync(path.join(dir, 'bad.json'), text);
      assert.deepEqual(readWindowState(path.join(dir, 'bad.json')), DEFAULT_STATE, text);
    }
    assert.deepEqual(visibleBounds(DEFAULT_STATE, screen), { width: 1280, height: 800 });
  });

  test('a window saved on a monitor that is gone is brought back whole onto the nearest display', () => {
    const bounds = visibleBounds({ x: 5000, y: -3000, width: 2500, height: 900, maximized: false }, screen);
    assert.deepEqual(bounds, { x: 0, y: 0, width: 1920, height: 900 });
    const partly = visibleBounds({ x: 1500, y: 900, width: 800, height: 600, maximized: false }, screen);
    assert.deepEqual(partly, { x: 1120, y: 480, width: 800, height: 600 });
  });
});
