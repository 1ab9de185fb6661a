import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { noDisplayReason } from '../../scripts/start.ts';
import { REPO } from '../support/paths.ts';

test('a window can open on Linux with X or Wayland, and always on macOS and Windows', () => {
  assert.equal(noDisplayReason('linux', { DISPLAY: ':0' }), null);
  assert.equal(noDisplayReason('linux', { WAYLAND_DISPLAY: 'wayland-0' }), null);
  assert.equal(noDisplayReason('darwin', {}), null);
  assert.equal(noDisplayReason('win32', {}), null);
  assert.match(noDisplayReason('linux', {})!, /no display/);
});

test('npm start without a display says to use npm run host', () => {
  const env = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/start.ts')], {
    cwd: REPO,
    env,
    encoding: 'utf8',
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /the desktop window cannot open: there is no display here/);
  assert.match(result.stderr, /npm run host/);
});
