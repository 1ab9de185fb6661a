import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { EngineClient } from '../../src-main/core/engine-client.ts';
import { serveEngine } from '../../src-main/core/engine/serve.ts';
import { utilityEngine } from '../../src-main/electron/engine.ts';
import { utilityPort } from '../../src-main/core/engine/serve.ts';
import { FakeUtilityProcess } from './fakes.ts';

/* The engine in a utilityProcess: Electron's events as the core's EngineTransport, and the engine's end. */

function spawn(env: Record<string, string | undefined> = {}) {
  const utilityProcess = new FakeUtilityProcess();
  const transport = utilityEngine(utilityProcess, { entry: '/app/build/engine-process/process.js', env })();
  const fork = utilityProcess.forks[0]!;
  return { transport, fork, child: fork.child };
}

describe('utilityEngine: the main side', () => {
  test('forks the entry as a named utility process, its environment without unset names', () => {
    const { fork } = spawn({ HEIRLOOM_ENGINE: '{"dataDir":"/d"}', UNSET: undefined });
    assert.equal(fork.modulePath, '/app/build/engine-process/process.js');
    assert.deepEqual(fork.args, []);
    assert.deepEqual(fork.options, {
      serviceName: 'Heirloom engine',
      env: { HEIRLOOM_ENGINE: '{"dataDir":"/d"}' },
    });
  });

  test('send is postMessage, and messages come back as they are', () => {
    const { transport, child } = spawn();
    const heard: unknown[] = [];
    transport.onMessage((message) => heard.push(message));
    transport.send({ type: 'run', id: 1, op: 'info', args: {} });
    child.emit('message', { type: 'ready' });
    assert.deepEqual(child.posted, [{ type: 'run', id: 1, op: 'info', args: {} }]);
    assert.deepEqual(heard, [{ type: 'ready' }]);
  });

  test('pid is the process id once it has started', () => {
    const { transport, child } = spawn();
    assert.equal(transport.pid, undefined);
    child.pid = 4242;
    assert.equal(transport.pid, 4242);
  });

  test('exit reports the code once, with no signal; afterwards nothing is sent or killed', () => {
    const { transport, child } = spawn();
    const exits: [number | null, string | null][] = [];
    transport.onExit((code, signal) => exits.push([code, signal]));
    transport.kill();
    assert.equal(child.kills, 1);
    child.emit('exit', 139);
    child.emit('exit', 139);
    transport.send({ type: 'cancel', id: 1 });
    transport.kill();
    assert.deepEqual(exits, [[139, null]]);
    assert.deepEqual(child.posted, []);
    assert.equal(child.kills, 1);
  });
});

/** Electron's process.parentPort: messages arrive wrapped as {data}. */
class FakeParentPort extends EventEmitter {
  readonly posted: unknown[] = [];
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
}

describe('utilityPort: the engine side', () => {
  test('unwraps {data} on the way in and posts as it is on the way out', () => {
    const parent = new FakeParentPort();
    const port = utilityPort(parent);
    const heard: unknown[] = [];
    port.onMessage((message) => heard.push(message));
    parent.emit('message', { data: { type: 'cancel', id: 3 }, ports: [] });
    port.send({ type: 'ready' });
    assert.deepEqual(heard, [{ type: 'cancel', id: 3 }]);
    assert.deepEqual(parent.posted, [{ type: 'ready' }]);
  });

  test('the core talks to an engine across both ends, as it would across a utility process', async () => {
    const utilityProcess = new FakeUtilityProcess();
    const client = new EngineClient(utilityEngine(utilityProcess, { entry: 'engine.js', env: {} }));
    const parent = new FakeParentPort();
    // The wire between the two ends: a structured clone each way, as Electron's is.
    const child = () => utilityProcess.forks[0]!.child;
    const wire = setInterval(() => {
      if (!utilityProcess.forks[0]) return;
      for (const message of child().posted.splice(0))
        parent.emit('message', { data: structuredClone(message) });
      for (const message of parent.posted.splice(0)) child().emit('message', structuredClone(message));
    }, 1);
    try {
      const answer = client.request<{ twice: number }>('double', { n: 21 }, { priority: 'preview' });
      while (!utilityProcess.forks[0]) await new Promise((resolve) => setTimeout(resolve, 1));
      serveEngine(
        { double: async (args) => ({ twice: (args as { n: number }).n * 2 }) },
        utilityPort(parent),
      );
      assert.deepEqual(await answer, { twice: 42 });
    } finally {
      clearInterval(wire);
      const closed = client.close();
      child().emit('exit', 0);
      await closed;
    }
  });
});
