import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Core } from '../../src-main/core/app.ts';
import { coreFor } from '../support/core.ts';
import { YUNET } from '../support/paths.ts';
import { fidelityBlendRestorer } from '../support/restorers.ts';
import { tempDir } from '../support/temp.ts';

let core: Core | undefined;
after(() => core?.close());

test('hardware.get says what runs CodeFormer here and why the others do not; a forced provider falls back in words', async () => {
  const root = tempDir();
  const restorer = path.join(root, 'restorer.onnx');
  fs.writeFileSync(restorer, fidelityBlendRestorer());
  core = coreFor(path.join(root, 'data'), { detector: YUNET, restorer });

  const auto = await core.dispatch('hardware.get', {});
  assert.equal(auto.choice, 'auto');
  assert.equal(auto.active, 'cpu');
  const byId = new Map(auto.providers.map((p) => [p.id, p]));
  assert.deepEqual([...byId.keys()].sort(), ['coreml', 'cpu', 'cuda', 'dml', 'webgpu']);
  assert.equal(byId.get('cpu')!.available, true);
  if (process.platform === 'linux') {
    // This machine: no CUDA libraries (our .npmrc skips them), no DirectML, no CoreML.
    assert.deepEqual(
      ['cuda', 'dml', 'coreml'].map((id) => byId.get(id as 'cuda')!.available),
      [false, false, false],
    );
    assert.match(byId.get('cuda')!.why, /CUDA libraries are not installed/);
    assert.match(byId.get('dml')!.why, /Windows only/);
    assert.match(byId.get('coreml')!.why, /macOS only/);
    // Auto tried CUDA first and says why it runs on the CPU.
    if (process.arch === 'x64') assert.match(auto.fallbackReason ?? '', /cuda is not installed/);
  }

  await core.dispatch('settings.update', { provider: 'dml' });
  const forced = await core.dispatch('hardware.get', {});
  assert.equal(forced.choice, 'dml');
  assert.equal(forced.active, 'cpu');
  if (process.platform !== 'win32')
    assert.match(forced.fallbackReason ?? '', /dml is not in this onnxruntime build/);
  assert.equal((await core.dispatch('app.info', {})).engine.fallbackReason, forced.fallbackReason);

  await core.dispatch('settings.update', { provider: 'cpu' });
  const cpu = await core.dispatch('hardware.get', {});
  assert.deepEqual([cpu.choice, cpu.active, cpu.fallbackReason], ['cpu', 'cpu', null]);
});
