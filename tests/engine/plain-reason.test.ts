import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainReason } from '../../src-main/core/engine/sessions.ts';

test("a provider's failure is told in its own words, without onnxruntime's source location and call site", () => {
  assert.equal(
    plainReason(
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 void onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuBufferCacheConfig&, int, bool) No supported adapters',
    ),
    'No supported adapters',
  );
  assert.equal(
    plainReason('[ONNXRuntimeError] : 1 : FAIL : CUDA failure 100: no CUDA-capable device is detected\nmore'),
    'CUDA failure 100: no CUDA-capable device is detected',
  );
  assert.equal(
    plainReason('libcublasLt.so.12: cannot open shared object file'),
    'libcublasLt.so.12: cannot open shared object file',
  );
});
