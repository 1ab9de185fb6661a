import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { IDENTITY_RESTORER, REPO } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

/**
 * The variables by which onnxruntime 1.30 recognises a CI machine and keeps its telemetry off by itself
 * (strings of libonnxruntime.so), and the ones the app sets: removed, so the child starts as on a user's
 * machine and only the app's own setting can keep it quiet.
 */
const QUIETING = [
  'ORT_DISABLE_TELEMETRY',
  'ORT_TELEMETRY_DISABLED',
  'ORT_RUNNING_UNIT_TESTS',
  'CI',
  'TF_BUILD',
  'GITHUB_ACTIONS',
  'GITLAB_CI',
  'CIRCLECI',
  'TRAVIS',
  'JENKINS_URL',
  'CODEBUILD_BUILD_ID',
  'BUILDKITE',
  'TEAMCITY_VERSION',
  'APPVEYOR',
  'BITBUCKET_BUILD_NUMBER',
  'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI',
];

/** Opens and releases one session through the app's `openSession`, in a fresh process with `env`. */
function openOneSession(env: NodeJS.ProcessEnv): Promise<void> {
  const sessions = pathToFileURL(path.join(REPO, 'src-main/core/engine/sessions.ts')).href;
  const script = `const { openSession } = await import(${JSON.stringify(sessions)});
const { session } = await openSession(${JSON.stringify(IDENTITY_RESTORER)}, { providers: ['cpu'] });
await session.release();`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: REPO, env },
      (error, _stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve()),
    );
  });
}

describe('onnxruntime sessions', () => {
  test('opening one leaves nothing in the temp folder or the home folder (onnxruntime telemetry stays off)', async () => {
    const temp = tempDir();
    const home = tempDir();
    // tsx keeps its compile cache in the temp folder unless told not to.
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp, HOME: home, TSX_DISABLE_CACHE: '1' };
    for (const name of [...QUIETING, 'XDG_CACHE_HOME']) delete env[name];
    await openOneSession(env);
    // Without ORT_DISABLE_TELEMETRY: mat-debug-<pid>.log and .ses in $TMPDIR, ~/.cache/Microsoft/….
    assert.deepEqual(fs.readdirSync(temp), []);
    assert.deepEqual(fs.readdirSync(home), []);
  });
});
