import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ERROR_CODES,
  routes,
  type EventMessage,
  type RouteInput,
  type RouteName,
} from '../../src-main/contract/index.ts';
import type { Core } from '../../src-main/core/app.ts';
import type { Reply } from '../../src-main/contract/index.ts';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from '../../src-main/electron/channels.ts';
import { forwardEvents, trustedSender, wireIpc } from '../../src-main/electron/ipc.ts';
import { coreFor } from '../support/core.ts';
import { tempDir } from '../support/temp.ts';
import { FakeContents, FakeFrame, FakeIpcMain } from './fakes.ts';

/* The contract over IPC: every route by name, inputs checked, errors as values, only our page answered. */

const cores: Core[] = [];
after(() => Promise.all(cores.map((core) => core.close())));

/** A real core (its models absent: no route used here reaches the engine) behind a fake ipcMain. */
function wired() {
  const root = tempDir();
  const core = coreFor(path.join(root, 'data'), {
    detector: path.join(root, 'missing.onnx'),
    restorer: path.join(root, 'missing'),
  });
  cores.push(core);
  const routed: string[] = [];
  const spy: Pick<Core, 'dispatch'> = {
    dispatch: (route, input) => {
      routed.push(route);
      return core.dispatch(route, input);
    },
  };
  const ipcMain = new FakeIpcMain();
  const contents = new FakeContents();
  contents.mainFrame.url = 'app://heirloom/';
  const logged: string[] = [];
  const unwire = wireIpc(
    ipcMain,
    spy,
    trustedSender(() => contents),
    (line) => logged.push(line),
  );
  const call = (request: unknown, event = contents.invokeEvent()): Promise<Reply> =>
    ipcMain.invoke(INVOKE_CHANNEL, event, request);
  return { core, ipcMain, contents, routed, logged, unwire, call };
}

/**
 * A valid input for routes that take one, naming things that do not exist: each reaches its handler, none the
 * engine. A route not listed here is called with `{}`: it must still reach the core and answer {ok, …}.
 */
const SAMPLES: { [R in RouteName]?: RouteInput<R> } = {
  'album.create': { name: 'Summer 1962' },
  'album.get': { albumId: 999 },
  'album.rename': { albumId: 999, name: 'x' },
  'album.update': { albumId: 999, defaults: { fidelity: 0.7 } },
  'album.delete': { albumId: 999 },
  'photo.import': { albumId: 999, paths: ['/nowhere/a.jpg'] },
  'photo.list': { albumId: 999 },
  'photo.get': { photoId: 999 },
  'photo.check': { albumId: 999 },
  'photo.redetect': { photoId: 999 },
  'photo.remove': { photoIds: [999] },
  'photo.render': { photoId: 999 },
  'face.list': { photoId: 999 },
  'face.update': { faceId: 999, enabled: false },
  'face.add': { photoId: 999, box: [1, 1, 10, 10] },
  'face.delete': { faceId: 999 },
  'face.preview': { faceId: 999 },
  'export.start': { photoIds: [999] },
  'job.get': { jobId: 999 },
  'job.cancel': { jobId: 999 },
  'job.resume': { jobId: 999 },
  'job.reveal': { jobId: 999 },
  'settings.update': { provenance: true },
};

function assertWellFormed(reply: Reply, route: string): void {
  if (reply.ok) return;
  assert.ok(ERROR_CODES.includes(reply.error.code), `${route}: code ${reply.error.code}`);
  assert.equal(typeof reply.error.message, 'string');
  assert.ok(reply.error.message.length > 0, `${route}: empty message`);
}

describe('IPC: one channel for the whole contract', () => {
  test('every route of the contract reaches the core by its name and answers {ok, …}, never a throw', async () => {
    const { call, routed, logged } = wired();
    for (const route of Object.keys(routes) as RouteName[]) {
      const reply = await call({ route, input: SAMPLES[route] ?? {} });
      assertWellFormed(reply, route);
      assert.ok(reply.ok || reply.error.code !== 'INTERNAL', `${route}: ${JSON.stringify(reply)}`);
    }
    assert.deepEqual(routed, Object.keys(routes));
    assert.deepEqual(logged, []);
  });

  test('albums are made and listed end to end through IPC', async () => {
    const { call } = wired();
    const made = await call({ route: 'album.create', input: { name: 'Grandma' } });
    assert.equal(made.ok, true);
    const listed = await call({ route: 'album.list', input: {} });
    assert.ok(listed.ok);
    assert.deepEqual(
      (listed.value as { name: string }[]).map((album) => album.name),
      ['Grandma'],
    );
  });

  test('an input the schema refuses answers INVALID_INPUT naming the field, and no handler runs', async () => {
    const { call, core } = wired();
    const reply = await call({ route: 'album.rename', input: { albumId: 'one', name: 'x' } });
    assert.equal(reply.ok, false);
    assert.equal(!reply.ok && reply.error.code, 'INVALID_INPUT');
    assert.match(!reply.ok ? reply.error.message : '', /albumId/);
    const extra = await call({ route: 'album.list', input: { sql: 'drop table albums' } });
    assert.equal(!extra.ok && extra.error.code, 'INVALID_INPUT');
    assert.deepEqual(await core.dispatch('album.list', {}), []);
  });

  test('a call that is not {route, input} answers INVALID_INPUT; an unknown route NOT_FOUND', async () => {
    const { call, routed } = wired();
    for (const request of [null, 'album.list', 42, [], { route: 7 }, {}]) {
      const reply = await call(request);
      assert.equal(!reply.ok && reply.error.code, 'INVALID_INPUT', JSON.stringify(request));
    }
    for (const route of ['nope', '__proto__', 'constructor', 'album.list ']) {
      const reply = await call({ route, input: {} });
      assert.equal(!reply.ok && reply.error.code, 'NOT_FOUND', route);
    }
    assert.deepEqual(routed, []);
  });

  test('a bug in the core answers INTERNAL with one line, and is logged', async () => {
    const ipcMain = new FakeIpcMain();
    const logged: string[] = [];
    const failing: Pick<Core, 'dispatch'> = {
      dispatch: () => Promise.reject(new Error('boom\n    at somewhere')),
    };
    wireIpc(
      ipcMain,
      failing,
      () => true,
      (line) => logged.push(line),
    );
    const reply = await ipcMain.invoke(INVOKE_CHANNEL, new FakeContents().invokeEvent(), {
      route: 'album.list',
    });
    assert.deepEqual(reply, { ok: false, error: { code: 'INTERNAL', message: 'boom' } });
    assert.equal(logged.length, 1);
  });

  test('unwiring removes the channel', () => {
    const { ipcMain, unwire } = wired();
    unwire();
    assert.equal(ipcMain.handlers.size, 0);
  });
});

describe('IPC: only our page is answered', () => {
  const refusedFrom = async (label: string, event: ReturnType<FakeContents['invokeEvent']>) => {
    const { call, routed } = wired();
    await assert.rejects(call({ route: 'album.create', input: { name: 'x' } }, event), /refused/, label);
    assert.deepEqual(routed, [], `${label}: the core was reached`);
  };

  test('a main frame showing another origin is refused before the core runs', async () => {
    const { contents } = wired();
    for (const url of [
      'https://evil.example/',
      'app://heirloom.evil/',
      'file:///etc/passwd',
      'about:blank',
    ]) {
      await refusedFrom(url, contents.invokeEvent(new FakeFrame(url)));
    }
  });

  test('a subframe is refused, even one showing our origin', async () => {
    const { contents } = wired();
    await refusedFrom('subframe', contents.invokeEvent(new FakeFrame('app://heirloom/', contents.mainFrame)));
    await refusedFrom(
      'evil subframe',
      contents.invokeEvent(new FakeFrame('https://evil.example/', contents.mainFrame)),
    );
  });

  test('another web contents, or a frame that has gone, is refused', async () => {
    const other = new FakeContents();
    other.mainFrame.url = 'app://heirloom/';
    await refusedFrom('other contents', other.invokeEvent());
    const { contents } = wired();
    await refusedFrom('no frame', contents.invokeEvent(null));
  });
});

describe('IPC: events', () => {
  const message: EventMessage = { event: 'photo.updated', data: { photoId: 1, albumId: 2 } };

  function emitter() {
    let listener: ((m: EventMessage) => void) | undefined;
    return {
      subscribe: (l: (m: EventMessage) => void) => {
        listener = l;
        return () => (listener = undefined);
      },
      emit: (m: EventMessage) => listener?.(m),
    };
  }

  test('each event of the core goes to our window on the event channel', () => {
    const core = emitter();
    const contents = new FakeContents();
    contents.mainFrame.url = 'app://heirloom/';
    forwardEvents(core, () => contents);
    core.emit(message);
    assert.deepEqual(contents.sent, [{ channel: EVENT_CHANNEL, message }]);
  });

  test('no event reaches a page that is not ours, a destroyed window, or after stopping', () => {
    const core = emitter();
    const contents = new FakeContents();
    contents.mainFrame.url = 'https://evil.example/';
    const stop = forwardEvents(core, () => contents);
    core.emit(message);
    contents.mainFrame.url = 'app://heirloom/';
    contents.destroyed = true;
    core.emit(message);
    contents.destroyed = false;
    stop();
    core.emit(message);
    assert.deepEqual(contents.sent, []);
  });
});
