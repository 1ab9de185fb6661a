import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import type { Priority } from '../../src-main/core/engine-client.ts';
import { fakeClient, started, takeHistory } from './fake.ts';

/*
 * One engine for the file: each test starts with takeHistory, which waits for the engine to be idle and
 * clears its record, and starting an engine per test would double the time these take.
 */
const client = fakeClient({ after });

const cancelled = (message: RegExp) => (error: unknown) =>
  error instanceof AppError && error.code === 'CANCELLED' && message.test(error.message);

test('a preview runs before a detection, and a detection before an export, whatever order they came in', async () => {
  await takeHistory(client);
  const finished: string[] = [];
  const run = (op: string, priority: Priority) =>
    client.request(op, { ms: 300 }, { priority }).then(() => finished.push(`${op} ${priority}`));

  // The block is sent at once (the engine is idle); the others wait behind it.
  await Promise.all([
    run('block', 'export'),
    run('echo', 'export'),
    run('echo', 'detect'),
    run('echo', 'preview'),
  ]);
  assert.deepEqual(finished, ['block export', 'echo preview', 'echo detect', 'echo export']);
});

test('requests of one priority run in the order they came in', async () => {
  await takeHistory(client);
  const runs = [
    client.request('block', { ms: 200 }, { priority: 'export' }),
    ...['a', 'b', 'c'].map((tag) => client.request('echo', { tag }, { priority: 'preview' })),
    client.request('echo', { tag: 'd' }, { priority: 'detect' }),
    client.request('echo', { tag: 'e' }, { priority: 'preview' }),
  ];
  await Promise.all(runs);
  const order = (await takeHistory(client)).filter((line) => line.startsWith('start echo:'));
  assert.deepEqual(order, ['start echo:a', 'start echo:b', 'start echo:c', 'start echo:e', 'start echo:d']);
});

test('a newer request with the same key replaces a waiting one, which rejects as superseded', async () => {
  await takeHistory(client);
  const blocking = client.request('block', { ms: 200 }, { priority: 'export' });
  const previews = ['1', '2', '3'].map((tag) =>
    client.request('echo', { tag }, { priority: 'preview', coalesceKey: 'preview:face:12' }),
  );
  const [, , last] = await Promise.all([
    assert.rejects(previews[0]!, cancelled(/superseded by a newer request/)),
    assert.rejects(previews[1]!, cancelled(/superseded by a newer request/)),
    previews[2],
    blocking,
  ]);
  assert.deepEqual(last, { tag: '3' });
  const echoes = (await takeHistory(client)).filter((line) => line.includes('echo:'));
  assert.deepEqual(echoes, ['start echo:3', 'done echo:3']);
});

test('a replacement keeps the place in the queue of the request it replaces', async () => {
  await takeHistory(client);
  const runs = [
    client.request('block', { ms: 200 }, { priority: 'export' }),
    client
      .request('echo', { tag: 'face12-old' }, { priority: 'preview', coalesceKey: 'face:12' })
      .catch(() => {}),
    client.request('echo', { tag: 'face13' }, { priority: 'preview', coalesceKey: 'face:13' }),
    client.request('echo', { tag: 'face12-new' }, { priority: 'preview', coalesceKey: 'face:12' }),
  ];
  await Promise.all(runs);
  const order = (await takeHistory(client)).filter((line) => line.startsWith('start echo:'));
  assert.deepEqual(order, ['start echo:face12-new', 'start echo:face13']);
});

test('a newer request with the key of the running one cancels it in the engine and discards its result', async () => {
  await takeHistory(client);
  const first = started();
  const stale = client.request('sleep', { ms: 5000 }, { priority: 'preview', coalesceKey: 'k', ...first });
  await first.started;
  const fresh = client.request('echo', { tag: 'new' }, { priority: 'preview', coalesceKey: 'k' });
  await assert.rejects(stale, cancelled(/superseded by a newer request/));
  assert.deepEqual(await fresh, { tag: 'new' });
  // 'cancelled', not 'done': the sleep stopped at a checkpoint instead of running its 5 s out.
  assert.deepEqual(await takeHistory(client), [
    'start sleep',
    'cancelled sleep',
    'start echo:new',
    'done echo:new',
  ]);
});

test('aborting a waiting request rejects it and it never runs', async () => {
  await takeHistory(client);
  const blocking = client.request('block', { ms: 200 }, { priority: 'export' });
  const controller = new AbortController();
  const waiting = client.request(
    'echo',
    { tag: 'aborted' },
    { priority: 'preview', signal: controller.signal },
  );
  controller.abort();
  await assert.rejects(waiting, cancelled(/echo was cancelled/));
  await blocking;
  assert.ok(!(await takeHistory(client)).some((line) => line.includes('aborted')));
});

test('aborting the running request rejects it at once; the next waits until the engine has stopped it', async () => {
  await takeHistory(client);
  const controller = new AbortController();
  const sleep = started();
  const running = client.request(
    'sleep',
    { ms: 5000 },
    { priority: 'export', signal: controller.signal, ...sleep },
  );
  await sleep.started;
  controller.abort();
  // Rejected at once, before the engine can have read the cancel (a settled promise wins the race), and
  // the engine still counts as busy until it replies.
  const first = await Promise.race([running, 'still pending']).catch((error: unknown) => error);
  assert.ok(cancelled(/sleep was cancelled/)(first), `rejected at once, not ${String(first)}`);
  assert.equal(client.state, 'busy');
  await client.request('echo', { tag: 'next' }, { priority: 'preview' });
  assert.deepEqual((await takeHistory(client)).slice(0, 3), [
    'start sleep',
    'cancelled sleep',
    'start echo:next',
  ]);
});

test('a request whose signal is already aborted rejects without starting the engine', async (t) => {
  const unstarted = fakeClient(t);
  await assert.rejects(
    unstarted.request('echo', null, { priority: 'preview', signal: AbortSignal.abort() }),
    cancelled(/echo was cancelled/),
  );
  assert.equal(unstarted.state, 'stopped');
});

test('progress reaches the caller in order, then the result', async () => {
  await takeHistory(client);
  const seen: unknown[] = [];
  const steps = await client.request(
    'progress',
    { steps: 3 },
    { priority: 'export', onProgress: (d) => seen.push(d) },
  );
  assert.equal(steps, 3);
  assert.deepEqual(seen, [
    { step: 1, of: 3 },
    { step: 2, of: 3 },
    { step: 3, of: 3 },
  ]);
});

test('a background request runs after the previews, and before detections and exports', async () => {
  await takeHistory(client);
  await Promise.all([
    client.request('block', { ms: 200 }, { priority: 'export' }),
    ...(['export', 'detect', 'background', 'preview'] as const).map((priority) =>
      client.request('echo', { tag: priority }, { priority }),
    ),
  ]);
  const order = (await takeHistory(client)).filter((line) => line.startsWith('start echo:'));
  assert.deepEqual(order, [
    'start echo:preview',
    'start echo:background',
    'start echo:detect',
    'start echo:export',
  ]);
});

test('a preview stops a running background request that yields; it runs again next, and its caller gets its result', async () => {
  await takeHistory(client);
  const first = started();
  const background = client.request(
    'sleep',
    { ms: 400, tag: 'background' },
    { priority: 'background', yields: true, ...first },
  );
  await first.started;
  const queued = client.request('echo', { tag: 'queued' }, { priority: 'background', yields: true });
  assert.deepEqual(await client.request('echo', { tag: 'preview' }, { priority: 'preview' }), {
    tag: 'preview',
  });
  assert.equal(await background, 'slept');
  await queued;
  // Stopped at its next checkpoint, not run out; back at the head of its lane, ahead of the one that came later.
  assert.deepEqual(await takeHistory(client), [
    'start sleep:background',
    'cancelled sleep:background',
    'start echo:preview',
    'done echo:preview',
    'start sleep:background',
    'done sleep:background',
    'start echo:queued',
    'done echo:queued',
  ]);
});

test('a running background request is not stopped by one as urgent or less: they wait for its end', async () => {
  await takeHistory(client);
  const first = started();
  const background = client.request(
    'sleep',
    { ms: 200, tag: 'background' },
    { priority: 'background', yields: true, ...first },
  );
  await first.started;
  await Promise.all([
    background,
    client.request('echo', { tag: 'another' }, { priority: 'background', yields: true }),
    client.request('echo', { tag: 'detect' }, { priority: 'detect' }),
  ]);
  assert.deepEqual(await takeHistory(client), [
    'start sleep:background',
    'done sleep:background',
    'start echo:another',
    'done echo:another',
    'start echo:detect',
    'done echo:detect',
  ]);
});

test('an export that pauses lets previews, background work and detections go between its steps, and goes on where it was', async () => {
  await takeHistory(client);
  const first = started();
  const exporting = client.request<number>(
    'pausing',
    { ms: 400, tag: 'export' },
    { priority: 'export', pauses: true, ...first },
  );
  await first.started;
  const later = client.request('echo', { tag: 'another-export' }, { priority: 'export' });
  const preview = client.request('echo', { tag: 'preview' }, { priority: 'preview' });
  const detect = client.request('echo', { tag: 'detect' }, { priority: 'detect' });
  assert.deepEqual(await preview, { tag: 'preview' });
  await detect;
  const slices = await exporting;
  assert.ok(slices >= 40, `the export ran its whole time once: ${slices} slices`);
  await later;
  assert.deepEqual(await takeHistory(client), [
    'start pausing:export',
    'start echo:preview',
    'done echo:preview',
    'start echo:detect',
    'done echo:detect',
    'done pausing:export',
    // Another export is as urgent as the running one: it waits for its end.
    'start echo:another-export',
    'done echo:another-export',
  ]);
});

test('a preview stops background work that jumped ahead of an export; cancelling the export stops it at its next pause', async () => {
  await takeHistory(client);
  const first = started();
  const controller = new AbortController();
  const exporting = client.request(
    'pausing',
    { ms: 2000, tag: 'export' },
    { priority: 'export', pauses: true, signal: controller.signal, ...first },
  );
  await first.started;
  const second = started();
  const background = client.request(
    'sleep',
    { ms: 300, tag: 'background' },
    { priority: 'background', yields: true, ...second },
  );
  await second.started;
  assert.deepEqual(await client.request('echo', { tag: 'preview' }, { priority: 'preview' }), {
    tag: 'preview',
  });
  assert.equal(await background, 'slept');
  controller.abort();
  await assert.rejects(exporting, (error: AppError) => error.code === 'CANCELLED');
  assert.deepEqual(await takeHistory(client), [
    'start pausing:export',
    'start sleep:background',
    'cancelled sleep:background',
    'start echo:preview',
    'done echo:preview',
    'start sleep:background',
    'done sleep:background',
    'cancelled pausing:export',
  ]);
});
