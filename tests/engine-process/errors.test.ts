import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppError, type ApiError } from '../../src-main/contract/errors.ts';
import { fakeClient } from './fake.ts';

/* One engine for the file: each test also shows that a failed run leaves it working for the next. */
const client = fakeClient({ after });

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
  assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
  return { code: error.code, message: error.message };
}

test('a handler error keeps its contract code and message across the process boundary', async () => {
  const fail = (code: string) => failure(client.request('fail', { code }, { priority: 'export' }));
  assert.deepEqual(await fail('MODEL_CORRUPT'), {
    code: 'MODEL_CORRUPT',
    message: 'codeformer.onnx is damaged',
  });
  // A plain Error given a contract code (no AppError needed in the engine).
  assert.deepEqual(await fail('NOT_FOUND'), { code: 'NOT_FOUND', message: 'failed with NOT_FOUND' });
});

test('an EngineError gets its contract code, a file system error is IO, anything else INTERNAL with one line', async () => {
  const fail = (code: string) => failure(client.request('fail', { code }, { priority: 'export' }));
  assert.deepEqual(await fail('engine'), {
    code: 'MODEL_CORRUPT',
    message: 'restore.onnx is not a face restorer',
  });
  const io = await fail('io');
  assert.equal(io.code, 'IO');
  assert.match(io.message, /^ENOENT: no such file or directory/);
  assert.deepEqual(await fail('plain'), { code: 'INTERNAL', message: 'tensor shape mismatch' });
  assert.deepEqual(await fail('ENOTACODE'), { code: 'INTERNAL', message: 'failed with ENOTACODE' });
});

test('an operation the engine does not have fails INTERNAL, and the engine goes on', async () => {
  assert.deepEqual(await failure(client.request('nope', null, { priority: 'export' })), {
    code: 'INTERNAL',
    message: 'unknown engine operation: nope',
  });
  assert.equal(await client.request('echo', 'still here', { priority: 'export' }), 'still here');
});
