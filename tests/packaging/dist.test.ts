import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';

/*
 * `npm run dist` as far as it can go here: Electron's binary cannot be downloaded, so electron-builder packs
 * the app around a stand-in Electron folder (`electronDist`), and the test reads what the package holds.
 */

/** The file names in an asar archive: a pickled JSON header (4-byte sizes, then the string) before the files. */
function asarFiles(archive: string): string[] {
  const fd = fs.openSync(archive, 'r');
  try {
    const head = Buffer.alloc(16);
    fs.readSync(fd, head, 0, 16, 0);
    const json = Buffer.alloc(head.readUInt32LE(12));
    fs.readSync(fd, json, 0, json.length, 16);
    type Entry = { files?: Record<string, Entry> };
    const names: string[] = [];
    const walk = (entry: Entry, at: string): void => {
      for (const [name, child] of Object.entries(entry.files ?? {})) {
        if (child.files) walk(child, `${at}/${name}`);
        else names.push(`${at}/${name}`);
      }
    };
    walk(JSON.parse(json.toString('utf8')) as Entry, '');
    return names;
  } finally {
    fs.closeSync(fd);
  }
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: REPO, encoding: 'utf8' });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
}

test('npm run dist packs the built app and UI, unpacks the native modules, and bundles no model', () => {
  const out = tempDir();
  const electron = path.join(out, 'electron');
  fs.mkdirSync(electron);
  fs.writeFileSync(path.join(electron, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(electron, 'LICENSE'), 'MIT');
  const version = (
    JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules/electron/package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const bin = (name: string) => path.join(REPO, 'node_modules/.bin', name);
  run(bin('vite'), ['build', '--config', 'src-renderer/vite.config.ts', '--logLevel', 'warn']);
  run(bin('tsc'), ['-p', 'tsconfig.json']);
  run(bin('electron-builder'), [
    '--dir',
    '--linux',
    `-c.electronDist=${electron}`,
    `-c.electronVersion=${version}`,
    // Never rebuild node_modules for Electron's ABI here: the tests' Node uses them.
    '-c.npmRebuild=false',
    `-c.directories.output=${path.join(out, 'dist')}`,
  ]);

  const resources = path.join(out, 'dist/linux-unpacked/resources');
  const packed = asarFiles(path.join(resources, 'app.asar'));
  for (const needed of [
    '/package.json',
    '/models/manifest.json',
    '/build/src-main/electron/main.js',
    '/build/src-main/electron/preload/index.js',
    '/build/src-main/core/engine-process/process.js',
    '/build/renderer/index.html',
  ]) {
    assert.ok(packed.includes(needed), `${needed} is in app.asar`);
  }
  assert.deepEqual(
    packed.filter((f) => /^\/build\/(tests|bench|scripts)\/|\.map$/.test(f)),
    [],
    'no tests, benchmarks, scripts or source maps',
  );
  // Every production dependency goes along with its package.json (the About box reads their licences).
  const deps = Object.keys(
    (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: object })
      .dependencies,
  );
  const unpacked = filesUnder(path.join(resources, 'app.asar.unpacked')).map((f) =>
    path.relative(path.join(resources, 'app.asar.unpacked'), f),
  );
  for (const dep of deps) {
    const manifest = `node_modules/${dep}/package.json`;
    assert.ok(packed.includes(`/${manifest}`) || unpacked.includes(manifest), `${dep} is packed`);
  }
  // Native code is loaded from outside the archive; this package carries only Linux's onnxruntime.
  for (const native of [
    /^node_modules\/onnxruntime-node\/bin\/napi-v\d+\/linux\/x64\/onnxruntime_binding\.node$/,
    /^node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/,
    /^node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64-.*\.node$/,
  ]) {
    assert.ok(
      unpacked.some((f) => native.test(f)),
      `${native} is unpacked`,
    );
  }
  assert.deepEqual(
    unpacked.filter((f) => /onnxruntime-node\/bin\/napi-v\d+\/(darwin|win32)\//.test(f)),
    [],
  );
  // Models are downloaded or imported into the user's data folder, never shipped.
  assert.deepEqual(
    [...packed, ...unpacked].filter((f) => /\.(onnx|pth|ckpt|safetensors)$/i.test(f)),
    [],
  );
});
