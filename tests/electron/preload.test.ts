import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createRequire, Module } from 'node:module';
import { test } from 'node:test';
import type { HeirloomBridge } from '../../src-main/contract/index.ts';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../src-main/electron/channels.ts';

/*
 * The preload as Electron runs it: a CommonJS script whose `require('electron')` is answered here by a fake
 * put in require's cache, so the real file is loaded, not a copy of its logic.
 */

const require = createRequire(import.meta.url);

class FakeIpcRenderer extends EventEmitter {
  readonly invoked: { channel: string; args: unknown[] }[] = [];
  async invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    this.invoked.push({ channel, args });
    return { ok: true, value: 'answer' };
  }
}

function loadPreload() {
  const exposed: { key: string; api: unknown }[] = [];
  const ipcRenderer = new FakeIpcRenderer();
  const fake = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }) },
    ipcRenderer,
    webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
  };
  const electronPath = require.resolve('electron');
  const cached = new Module(electronPath);
  cached.exports = fake;
  cached.loaded = true;
  require.cache[electronPath] = cached;
  const preload = require.resolve('../../src-main/electron/preload/index.ts');
  delete require.cache[preload];
  // What the preload itself asks for: a sandboxed preload's require knows Electron's modules, not our files.
  const required: string[] = [];
  const original = Module.prototype.require;
  Module.prototype.require = function (this: Module, id: string) {
    if (this.filename === preload) required.push(id);
    return original.call(this, id);
  } as typeof original;
  try {
    require(preload);
  } finally {
    Module.prototype.require = original;
    delete require.cache[electronPath];
  }
  return { exposed, ipcRenderer, required };
}

test('the preload exposes window.heirloom with exactly invoke, onEvent and pathForFile, and nothing else', () => {
  const { exposed } = loadPreload();
  assert.equal(exposed.length, 1);
  assert.equal(exposed[0]!.key, 'heirloom');
  const api = exposed[0]!.api as Record<string, unknown>;
  assert.deepEqual(Object.keys(api).sort(), ['invoke', 'onEvent', 'pathForFile']);
  assert.equal(typeof api.invoke, 'function');
  assert.equal(typeof api.onEvent, 'function');
});

test('pathForFile answers with the path Electron knows for a dropped file', () => {
  const { exposed } = loadPreload();
  const api = exposed[0]!.api as HeirloomBridge;
  assert.equal(api.pathForFile(new File([], 'grandma.jpg')), '/dropped/grandma.jpg');
});

test('invoke sends {route, input} on the invoke channel and resolves to the reply', async () => {
  const { exposed, ipcRenderer } = loadPreload();
  const api = exposed[0]!.api as HeirloomBridge;
  assert.deepEqual(await api.invoke('album.get', { albumId: 3 }), { ok: true, value: 'answer' });
  assert.deepEqual(ipcRenderer.invoked, [
    { channel: INVOKE_CHANNEL, args: [{ route: 'album.get', input: { albumId: 3 } }] },
  ]);
});

test('onEvent hands the page the message alone, never the IPC event, until it unsubscribes', () => {
  const { exposed, ipcRenderer } = loadPreload();
  const api = exposed[0]!.api as HeirloomBridge;
  const heard: unknown[][] = [];
  const stop = api.onEvent((...args: unknown[]) => heard.push(args));
  const message = { event: 'job.state', data: { jobId: 1, state: 'done', error: null } };
  ipcRenderer.emit(EVENT_CHANNEL, { sender: ipcRenderer }, message);
  stop();
  ipcRenderer.emit(EVENT_CHANNEL, { sender: ipcRenderer }, message);
  assert.deepEqual(heard, [[message]]);
  assert.equal(ipcRenderer.listenerCount(EVENT_CHANNEL), 0);
});

test('the preload requires electron and nothing else, and listens on nothing until the page asks', () => {
  const { ipcRenderer, required } = loadPreload();
  assert.deepEqual(required, ['electron']);
  assert.deepEqual(ipcRenderer.eventNames(), []);
});
