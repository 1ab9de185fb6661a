import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO } from '../support/paths.ts';

// The layout's dependency direction (../shared/docs/ARCHITECTURE.md), as eslint.config.js enforces it: each
// case lints one import as if it were written in a file of that folder (the file need not exist).

const eslint = new ESLint({ cwd: REPO });

/** The no-restricted-imports messages for `source` linted as `file`. */
async function refusals(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${REPO}/${file}` });
  assert.ok(result, `${file} was not linted`);
  const fatal = result.messages.find((m) => m.fatal);
  assert.equal(fatal, undefined, fatal?.message);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/** A line that uses the import, so nothing else is reported. */
function importing(specifier: string): string {
  return `import * as m from '${specifier}';\nexport default m;\n`;
}

const ELECTRON = /Only src-main\/electron may import electron/;
const HOSTS = /src-main\/core does not know its host/;
const ENGINE_AND_NN = /engine and nn know nothing of library, jobs or app/;
const CONTRACT = /src-main\/contract imports nothing of ours/;
const RENDERER = /src-renderer imports only src-main\/contract/;

const refused: [file: string, specifier: string, why: RegExp][] = [
  ['src-main/core/engine/x.ts', '../library/db.ts', ENGINE_AND_NN],
  ['src-main/core/engine/x.ts', '../jobs.ts', ENGINE_AND_NN],
  ['src-main/core/engine/x.ts', '../app.ts', ENGINE_AND_NN],
  ['src-main/core/nn/codeformer/x.ts', '../../library/albums.ts', ENGINE_AND_NN],
  ['src-main/core/nn/x.ts', '../jobs/queue.ts', ENGINE_AND_NN],
  ['src-main/core/engine/x.ts', '../../host/server.ts', HOSTS],
  ['src-main/core/engine/x.ts', 'electron', ELECTRON],
  ['src-main/core/nn/pth/x.ts', 'electron/main', ELECTRON],
  ['src-main/core/models/x.ts', '../../cli/main.ts', HOSTS],
  ['src-main/core/x.ts', '../electron/main.ts', HOSTS],
  ['src-main/core/models/x.ts', 'electron', ELECTRON],
  ['src-main/contract/routes.ts', '../core/engine/errors.ts', CONTRACT],
  ['src-main/contract/routes.ts', 'electron', ELECTRON],
  ['src-renderer/src/lib/api.ts', '../../src-main/core/engine/image.ts', RENDERER],
  ['src-renderer/src/lib/api.ts', 'electron', ELECTRON],
  ['src-main/cli/main.ts', 'electron', ELECTRON],
  ['src-main/host/server.ts', 'electron', ELECTRON],
  ['tests/x.test.ts', 'electron', ELECTRON],
];

const allowed: [file: string, specifier: string][] = [
  ['src-main/core/engine/x.ts', './align.ts'],
  ['src-main/core/engine/x.ts', '../nn/codeformer/config.ts'],
  ['src-main/core/engine/x.ts', './apply-mask.ts'],
  ['src-main/core/models/x.ts', '../library/db.ts'],
  ['src-main/core/x.ts', '../contract/routes.ts'],
  ['src-main/cli/main.ts', '../core/engine/pipeline.ts'],
  ['src-main/electron/main.ts', 'electron'],
  ['src-main/contract/routes.ts', 'zod'],
  ['src-main/contract/routes.ts', './schemas.ts'],
  ['src-renderer/src/lib/api.ts', '../../src-main/contract/routes.ts'],
];

describe('import boundaries (eslint.config.js)', () => {
  for (const [file, specifier, why] of refused) {
    test(`${file} may not import ${specifier}`, async () => {
      const messages = await refusals(file, importing(specifier));
      assert.equal(messages.length, 1, `refused ${messages.length} times`);
      assert.match(messages[0]!, why);
    });
  }

  for (const [file, specifier] of allowed) {
    test(`${file} may import ${specifier}`, async () => {
      assert.deepEqual(await refusals(file, importing(specifier)), []);
    });
  }

  test('src-renderer is linted, not ignored, so its first files are held to the rule', async () => {
    assert.equal(await eslint.isPathIgnored(`${REPO}/src-renderer/src/lib/api.ts`), false);
  });
});

test('a Svelte component is held to the renderer rule too: its script cannot import the core', async () => {
  const component = `<script lang="ts">\n  ${importing('../../../src-main/core/app.ts')}\n</script>\n`;
  const messages = await refusals('src-renderer/src/views/Library.svelte', component);
  assert.equal(messages.length, 1, `refused ${messages.length} times`);
  assert.match(messages[0]!, RENDERER);
  assert.deepEqual(
    await refusals(
      'src-renderer/src/views/Library.svelte',
      `<script lang="ts">\n  ${importing('../../../src-main/contract/index.ts')}\n</script>\n`,
    ),
    [],
  );
});
