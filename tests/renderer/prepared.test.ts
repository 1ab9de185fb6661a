import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Latest } from '../../src-renderer/src/lib/editor/latest.ts';
import { nextTask, PreparedRenders, type Task } from '../../src-renderer/src/lib/editor/prepared.ts';

class Superseded extends Error {}

/** A fake core: every request waits until the test answers it, so the order and overlap can be seen. */
function fakeCore() {
  const asked: Task[] = [];
  const pending: { task: Task; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const changed: number[] = [];
  const failures: unknown[] = [];
  const renders = new PreparedRenders<string>({
    fetch: (task) =>
      new Promise((resolve, reject) => {
        asked.push(task);
        pending.push({
          task,
          resolve: () =>
            resolve({
              url: `/media/preview/${task.faceId}-${task.w}`,
              originalUrl: `/b/${task.faceId}`,
              fidelity: task.w,
            }),
          reject,
        });
      }),
    load: async (url) => `image ${url}`,
    changed: (faceId) => changed.push(faceId),
    failed: (_task, error) => {
      failures.push(error);
      return error instanceof Error && error.message === 'model missing';
    },
    superseded: (error) => error instanceof Superseded,
  });
  /** Answers the oldest open request (and lets the loop go on). */
  const answer = async (how: 'ok' | Error = 'ok'): Promise<Task> => {
    const next = pending.shift();
    assert.ok(next, 'a request is open');
    if (how === 'ok') next.resolve();
    else next.reject(how);
    await settle();
    return next.task;
  };
  return { renders, asked, pending, changed, failures, answer };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('preparing the slider steps in the background', () => {
  test('the selected face comes first, nearest its w first, one request at a time, then the cards', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0.7 }, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    assert.equal(core.pending.length, 1, 'one at a time');
    const order: number[] = [];
    for (let i = 0; i < 5; i++) order.push((await core.answer()).w);
    assert.deepEqual(order, [0.75, 0.5, 1, 0.25, 0]);
    assert.deepEqual(await core.answer(), { faceId: 2, w: 0.5 });
    assert.equal(core.pending.length, 0);
    assert.deepEqual(
      [...core.renders.entries(1).keys()].sort((a, b) => a - b),
      [0, 25, 50, 75, 100],
    );
    assert.equal(core.renders.entries(1).get(25)?.image, 'image /media/preview/1-0.25');
    assert.equal(core.renders.any(2)?.originalUrl, '/b/2');
  });

  test('once every step is there, moving the slider asks for nothing', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0.5 }, cards: [] });
    for (let i = 0; i < 5; i++) await core.answer();
    const before = core.asked.length;
    for (let w = 0; w <= 1; w += 0.05) core.renders.want({ selected: { faceId: 1, w }, cards: [] });
    await settle();
    assert.equal(core.asked.length, before);
  });

  test('while a slider is dragged nothing new starts; letting go goes on where it was', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0.5 }, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    core.renders.pause(true);
    await core.answer();
    core.renders.want({ selected: { faceId: 1, w: 0.4 }, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    assert.equal(core.pending.length, 0, 'the running one finished; no other started');
    assert.equal(core.asked.length, 1);
    core.renders.pause(false);
    await settle();
    assert.deepEqual(core.asked.at(-1), { faceId: 1, w: 0.25 });
  });

  test('a new selection re-orders what is left, without cancelling what runs', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0.5 }, cards: [] });
    await settle();
    core.renders.want({ selected: { faceId: 2, w: 0 }, cards: [] });
    await settle();
    assert.equal(core.pending.length, 1, 'the running one is not doubled');
    assert.deepEqual(await core.answer(), { faceId: 1, w: 0.5 });
    assert.deepEqual(await core.answer(), { faceId: 2, w: 0 });
    assert.equal(core.renders.has({ faceId: 1, w: 0.5 }), true, 'the earlier face keeps its render');
  });

  test('nothing goes out for a face while its exact render is awaited; a superseded step is asked again after', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0.5 }, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    core.renders.hold(1);
    // The core let the exact render replace the running step.
    await core.answer(new Superseded());
    assert.deepEqual(core.asked.at(-1), { faceId: 2, w: 0.5 }, 'other faces go on');
    await core.answer();
    assert.equal(core.pending.length, 0, 'face 1 waits');
    core.renders.put(1, { url: '/exact', originalUrl: '/b/1', fidelity: 0.4, image: 'exact' });
    core.renders.release(1);
    await settle();
    assert.deepEqual(core.asked.at(-1), { faceId: 1, w: 0.5 }, 'the superseded step again');
    assert.deepEqual([...core.renders.entries(1).keys()], [40]);
    assert.equal(core.failures.length, 0);
  });

  test('a failed step is not asked again, and a missing model stops all background work', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0 }, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    await core.answer(new Error('could not read'));
    assert.deepEqual(core.asked.at(-1), { faceId: 1, w: 0.25 });
    await core.answer(new Error('model missing'));
    assert.equal(core.pending.length, 0);
    core.renders.want({ selected: { faceId: 1, w: 1 }, cards: [] });
    await settle();
    assert.equal(core.pending.length, 0, 'stopped for good');
    assert.equal(core.failures.length, 2);
  });

  test('"Try again" asks again for what failed', async () => {
    const core = fakeCore();
    core.renders.want({ selected: null, cards: [{ faceId: 2, w: 0.5 }] });
    await settle();
    await core.answer(new Error('could not read'));
    assert.equal(core.pending.length, 0);
    core.renders.retry();
    await settle();
    assert.equal(core.pending.length, 1);
    await core.answer();
    assert.equal(core.renders.has({ faceId: 2, w: 0.5 }), true);
  });

  test('a face changed (forgotten) while its render was on the way: that render is dropped and asked again', async () => {
    const core = fakeCore();
    core.renders.want({ selected: null, cards: [{ faceId: 1, w: 0.5 }] });
    await settle();
    core.renders.forget(1);
    await core.answer();
    assert.equal(core.renders.has({ faceId: 1, w: 0.5 }), false, 'the old render is not kept');
    assert.equal(core.renders.original(1), null);
    assert.deepEqual(
      core.pending.map((p) => p.task),
      [{ faceId: 1, w: 0.5 }],
      'asked for anew',
    );
    await core.answer();
    assert.equal(core.renders.has({ faceId: 1, w: 0.5 }), true);
    core.renders.forget(1);
    assert.equal(core.renders.original(1), '/b/1', 'the "before" stays: it does not change with the face');
  });

  test('after stop, answers still arriving change nothing', async () => {
    const core = fakeCore();
    core.renders.want({ selected: { faceId: 1, w: 0 }, cards: [] });
    await settle();
    core.renders.stop();
    await core.answer();
    assert.equal(core.changed.length, 0);
    assert.equal(core.pending.length, 0);
  });
});

describe('nextTask', () => {
  test('skips what is there or held, and ends with the cards in their order', () => {
    const done = new Set(['1:0.5', '1:0.25', '1:0.75', '1:0', '1:1', '2:0.3']);
    const askable = (t: Task) => !done.has(`${t.faceId}:${t.w}`);
    assert.deepEqual(
      nextTask(
        {
          selected: { faceId: 1, w: 0.5 },
          cards: [
            { faceId: 2, w: 0.3 },
            { faceId: 3, w: 0.6 },
          ],
        },
        askable,
      ),
      { faceId: 3, w: 0.6 },
    );
    assert.equal(nextTask({ selected: null, cards: [] }, askable), null);
  });
});

describe('latest wins', () => {
  test('only the newest request for a key may write', () => {
    const latest = new Latest<number>();
    const a = latest.take(1);
    const b = latest.take(1);
    const other = latest.take(2);
    assert.equal(latest.is(1, a), false);
    assert.equal(latest.is(1, b), true);
    assert.equal(latest.is(2, other), true);
    latest.drop(2);
    assert.equal(latest.is(2, other), false);
  });
});
