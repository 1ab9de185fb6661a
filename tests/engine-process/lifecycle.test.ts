import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { AppError } from '../../src-main/contract/errors.ts';
import type { EngineState } from '../../src-main/core/engine-client.ts';
import { FAKE_ENGINE, fakeClient, started } from './fake.ts';

function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'ESRCH';
  }
}

const internal = (message: string | RegExp) => (error: unknown) =>
  error instanceof AppError &&
  error.code === 'INTERNAL' &&
  (typeof message === 'string' ? error.message === message : message.test(error.message));

test('the main event loop keeps turning while the engine is blocked in a run', async (t) => {
  const client = fakeClient(t);
  await client.request('echo', null, { priority: 'export' });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  try {
    await client.request('block', { ms: 1000 }, { priority: 'export' });
  } finally {
    clearInterval(timer);
  }
  // ~100 at 10 ms; a loaded machine fires fewer, but a blocked loop fires none (ARCHITECTURE.md, facts).
  assert.ok(ticks >= 20, `${ticks} ticks in a 1 s run`);
});

test('an engine killed mid-run fails that run INTERNAL, restarts, and runs what was waiting', async (t) => {
  const restarts: string[] = [];
  const client = fakeClient(t, { onRestart: (reason) => restarts.push(reason) });
  const sleep = started();
  const running = client.request('sleep', { ms: 5000 }, { priority: 'export', ...sleep });
  const waiting = client.request('echo', 'after', { priority: 'export' });
  await sleep.started;
  const firstPid = client.pid!;
  process.kill(firstPid, 'SIGKILL');

  await assert.rejects(
    running,
    internal(
      'the engine process stopped unexpectedly (signal SIGKILL) while running sleep; it has been restarted',
    ),
  );
  assert.equal(await waiting, 'after');
  assert.deepEqual(restarts, [
    'the engine process stopped unexpectedly (signal SIGKILL) while running sleep',
  ]);
  assert.notEqual(client.pid, firstPid);
  assert.ok(isGone(firstPid));
  assert.equal(await client.request('echo', 'again', { priority: 'preview' }), 'again');
});

test('a run that jumped ahead of a paused export and killed the engine fails both; the next runs on a new engine', async (t) => {
  const client = fakeClient(t);
  const first = started();
  const exporting = client.request('pausing', { ms: 5000 }, { priority: 'export', pauses: true, ...first });
  await first.started;
  const crash = client.request('crash', null, { priority: 'preview' });
  await assert.rejects(crash, internal(/while running crash; it has been restarted$/));
  // The export was paused under it: it went with the process, told by what stopped it.
  await assert.rejects(exporting, internal(/while running crash; it has been restarted$/));
  assert.equal(await client.request('echo', 'after', { priority: 'export' }), 'after');
});

test('an engine that dies three times running nothing to the end is not restarted a fourth time', async (t) => {
  const restarts: string[] = [];
  const client = fakeClient(t, { onRestart: (reason) => restarts.push(reason) });
  const crashes = [1, 2, 3].map(() => client.request('crash', null, { priority: 'export' }));
  const waiting = client.request('echo', 'never', { priority: 'export' });

  const givenUp =
    'the engine process stopped unexpectedly (signal SIGKILL) while running crash; ' +
    'it stopped 3 times within 60 s without finishing any work, so it was not restarted';
  await Promise.all([
    assert.rejects(crashes[0]!, internal(/while running crash; it has been restarted$/)),
    assert.rejects(crashes[1]!, internal(/while running crash; it has been restarted$/)),
    assert.rejects(crashes[2]!, internal(givenUp)),
    assert.rejects(waiting, internal(givenUp)),
  ]);
  assert.equal(restarts.length, 2);
  assert.equal(client.state, 'stopped');

  // A later request tries a fresh engine, and a run that finishes clears the count.
  assert.equal(await client.request('echo', 'fresh', { priority: 'export' }), 'fresh');
});

test('an engine that exits as it starts is tried three times, then its requests fail', async (t) => {
  const restarts: string[] = [];
  const client = fakeClient(t, { onRestart: (reason) => restarts.push(reason) }, 'exit');
  await assert.rejects(
    client.request('echo', null, { priority: 'preview' }),
    internal(
      'the engine process stopped unexpectedly (exit code 3) while starting; ' +
        'it stopped 3 times within 60 s without finishing any work, so it was not restarted',
    ),
  );
  assert.deepEqual(
    restarts,
    Array(2).fill('the engine process stopped unexpectedly (exit code 3) while starting'),
  );
});

test('an engine that never says it is ready is killed after the start timeout', async (t) => {
  const client = fakeClient(t, { startTimeoutMs: 500, crashLoop: { deaths: 2, windowMs: 60_000 } }, 'silent');
  const pids: number[] = [];
  const watch = setInterval(() => {
    if (client.pid && !pids.includes(client.pid)) pids.push(client.pid);
  }, 20);
  try {
    await assert.rejects(
      client.request('echo', null, { priority: 'preview' }),
      internal(/^the engine process did not start within 0.5 s; it stopped 2 times/),
    );
  } finally {
    clearInterval(watch);
  }
  assert.equal(pids.length, 2);
  assert.ok(pids.every(isGone));
});

test('close() rejects every request, and no engine process is left', async (t) => {
  const client = fakeClient(t);
  const sleep = started();
  const running = client.request('sleep', { ms: 5000 }, { priority: 'export', ...sleep });
  const waiting = client.request('echo', null, { priority: 'export' });
  await sleep.started;
  const pid = client.pid!;
  const closing = (error: unknown) =>
    error instanceof AppError && error.code === 'CANCELLED' && error.message === 'the app is closing';
  const rejected = Promise.all([assert.rejects(running, closing), assert.rejects(waiting, closing)]);
  await client.close();
  await rejected;
  assert.ok(isGone(pid), `engine ${pid} is still there`);
  assert.equal(client.state, 'stopped');
  assert.equal(client.pid, undefined);
  await assert.rejects(client.request('echo', null, { priority: 'preview' }), closing);
});

test('the state goes starting → busy → idle, and stopped once closed', async (t) => {
  const states: EngineState[] = [];
  const client = fakeClient(t, { onStateChange: (state) => states.push(state) });
  assert.equal(client.state, 'stopped');
  await client.request('echo', null, { priority: 'export' });
  assert.equal(client.state, 'idle');
  await client.close();
  assert.deepEqual(states, ['starting', 'busy', 'idle', 'stopped']);
});

test('the engine process exits when its parent goes', async () => {
  const child = fork(FAKE_ENGINE, [], {
    serialization: 'advanced',
    execArgv: ['--import', import.meta.resolve('tsx')],
  });
  const [ready] = await once(child, 'message');
  assert.deepEqual(ready, { type: 'ready' });
  const exit = once(child, 'exit');
  child.disconnect();
  assert.deepEqual(await exit, [0, null]);
});
