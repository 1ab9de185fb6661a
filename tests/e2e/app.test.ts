import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Browser, Locator, Page, Request } from 'playwright-core';
import type { Face, Job, Photo } from '../../src-main/contract/dto.ts';
import { PHOTOS, REPO } from '../support/paths.ts';
import { tempDir } from '../support/temp.ts';
import { seriousViolations } from './support/axe.ts';
import { launchChromium } from './support/browser.ts';
import { startE2eHost, type E2eHost } from './support/host.ts';
import { prepareE2eModels, type E2eModels } from './support/models.ts';

/*
 * The whole flow a new user goes through, in Debian's Chromium against the Node host (browser mode), from an
 * empty data folder: first run → models → album → import → faces → fidelity → export → a crash mid-export →
 * resume. The steps run in order and share the page; each ends with a screenshot and an accessibility scan.
 */

const SCREENSHOTS = path.join(REPO, 'build/e2e');
const FOLDER = path.join(PHOTOS, 'CodeFormer/inputs/whole_imgs');

let root: string;
let models: E2eModels;
let exports: string;
let host: E2eHost;
let browser: Browser;
let page: Page;
let albumId: number;
let groupPhoto: Photo;

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

async function accessible(screen: string): Promise<void> {
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], `${screen}: ${JSON.stringify(violations, null, 1)}`);
}

/** Picks in the browser mode's own folder browser: opens `folder` from the roots, then does `choose`. */
async function browseTo(folder: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  const rootsHolding = folder.startsWith(models.folder)
    ? models.folder
    : folder.startsWith(exports)
      ? exports
      : PHOTOS;
  await dialog
    .getByRole('navigation', { name: 'Places' })
    .getByRole('button', { name: path.basename(rootsHolding), exact: true })
    .click();
  for (const part of path.relative(rootsHolding, folder).split(path.sep).filter(Boolean)) {
    await dialog.getByRole('button', { name: `Open folder ${part}`, exact: true }).click();
  }
}

async function openHost(): Promise<void> {
  host = await startE2eHost({
    dataDir: path.join(root, 'data'),
    models,
    folders: [PHOTOS, models.folder, exports],
  });
  await page.goto(host.address);
}

before(async () => {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  root = tempDir('heirloom-e2e-');
  models = prepareE2eModels(root);
  exports = path.join(root, 'exports');
  fs.mkdirSync(exports);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => assert.fail(`the page threw: ${error.message}`));
  await openHost();
});

// The page as each step left it, passed or failed: what a reader of a failure wants to see first.
let step = 0;
afterEach(async () => {
  await page.screenshot({ path: path.join(SCREENSHOTS, `step-${++step}.png`) }).catch(() => undefined);
});

after(async () => {
  await browser?.close();
  await host?.stop();
});

describe('a new user, from nothing to an exported album', () => {
  test('the first run opens on the models screen, which says plainly what is needed', async () => {
    await page
      .getByRole('heading', { name: /models/i })
      .first()
      .waitFor();
    await page
      .getByText(/non-commercial/i)
      .first()
      .waitFor();
    await shoot('1-first-run-models');
    await accessible('models');
  });

  test('both models install from files on disk, CodeFormer only once its licence is accepted', async () => {
    const detector = page.getByRole('region', { name: /face finder/i });
    await detector.getByRole('button', { name: /import file/i }).click();
    await browseTo(models.folder);
    await accessible('folder browser');
    await page
      .getByRole('dialog')
      .getByRole('radio', { name: /face_detection_yunet/ })
      .check();
    await page.getByRole('dialog').getByRole('button', { name: 'Use this file' }).click();
    await detector.getByText(/^✓?\s*Installed$/).waitFor();

    const restorer = page.getByRole('region', { name: /face restorer/i });
    const importRestorer = restorer.getByRole('button', { name: /import file/i });
    assert.equal(await importRestorer.isDisabled(), true, 'import waits for the licence');
    await restorer.getByRole('checkbox', { name: /accept the non-commercial licence/i }).check();
    await importRestorer.click();
    await browseTo(models.folder);
    await page
      .getByRole('dialog')
      .getByRole('radio', { name: /codeformer\.pth/ })
      .check();
    await page.getByRole('dialog').getByRole('button', { name: 'Use this file' }).click();
    await restorer.getByText(/^✓?\s*Installed$/).waitFor({ timeout: 120_000 });
    const listed = (await host.api('model.list')) as { status: string }[];
    assert.deepEqual(
      listed.map((m) => m.status),
      ['ready', 'ready'],
    );
    await shoot('2-models-installed');
  });

  test('an album is created and a folder of photos imported through the folder browser', async () => {
    await page.getByRole('button', { name: 'Ready. Go to your library' }).click();
    await page.getByRole('button', { name: 'New album' }).click();
    await page.getByRole('textbox', { name: 'Album name' }).fill('Whole photos');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await browseTo(FOLDER);
    await page.getByRole('dialog').getByRole('button', { name: 'Import this folder' }).click();
    const albums = async () => (await host.api('album.list')) as { id: number; photoCount: number }[];
    await expectEventually(async () => (await albums())[0]?.photoCount === fs.readdirSync(FOLDER).length);
    albumId = (await albums())[0]!.id;
    // Every photo is read and searched for faces; the grid says so in words.
    await expectEventually(async () => {
      const photos = (await host.api('photo.list', { albumId })) as Photo[];
      return photos.every((p) => p.detection !== 'pending');
    }, 120_000);
    const photos = (await host.api('photo.list', { albumId })) as Photo[];
    groupPhoto = photos.reduce((a, b) => (b.faceCount > a.faceCount ? b : a));
    assert.ok(
      groupPhoto.faceCount >= 3,
      `a group photo: ${groupPhoto.name} has ${groupPhoto.faceCount} faces`,
    );
    await page.getByText(`${groupPhoto.faceCount} faces`).first().waitFor();
    // The grid scrolls inside its pane: the window itself never scrolls (nor shows an empty band).
    assert.equal(await page.evaluate<boolean>('document.scrollingElement.scrollHeight <= innerHeight'), true);
    // A reload (or a bookmark) has no token in its address: the tab kept it.
    await page.reload();
    await page.getByText(`${groupPhoto.faceCount} faces`).first().waitFor();
    await shoot('3-library');
    await accessible('library');
  });

  test('the group photo opens with one button per face found', async () => {
    await page
      .getByRole('button', { name: new RegExp(`^${groupPhoto.name.replace('.', '\\.')}\\b`) })
      .click();
    const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
    for (const face of faces) {
      await page.getByRole('button', { name: `Face ${face.number}`, exact: true }).waitFor();
    }
    assert.ok(faces.length >= 3);
    assert.equal(await page.getByRole('button', { name: /^Face \d+$/ }).count(), faces.length);
    await shoot('4-editor');
    await accessible('editor');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.getByRole('slider', { name: 'Split position' }).waitFor();
    // Holding Space shows the original, in Compare too (where the Compare button just clicked has the focus).
    const restored = page.getByRole('img', { name: `${groupPhoto.name}, restored` });
    await page.keyboard.down(' ');
    await restored.waitFor({ state: 'hidden' });
    await page.keyboard.up(' ');
    await restored.waitFor({ state: 'visible' });
    await shoot('4-compare');
    await accessible('compare');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
  });

  test('a click on another control is handled while a restore is still running', async () => {
    // The restore is held in flight by delaying its answer: what is under test is the page, which must not wait.
    const order: string[] = [];
    await page.route('**/api/face.preview', async (route) => {
      if (isBackground(route.request())) return route.continue();
      await new Promise((r) => setTimeout(r, 3000));
      await route.continue();
      order.push('restore finished');
    });
    await page.getByRole('button', { name: 'Face 1', exact: true }).click();
    const slider = card(1).getByRole('slider', { name: 'Fidelity' });
    const asked = page.waitForRequest((r) => r.url().endsWith('/api/face.preview') && !isBackground(r));
    await slider.focus();
    await slider.press('ArrowLeft');
    await slider.press('ArrowLeft');
    await asked;
    const updated = page.waitForResponse(
      (r) =>
        r.url().endsWith('/api/face.update') &&
        (r.request().postDataJSON() as { enabled?: boolean }).enabled === false,
    );
    await card(2).getByRole('switch', { name: 'Restore this face' }).click();
    await updated;
    order.push('click handled');
    await expectEventually(() => order.includes('restore finished'));
    assert.deepEqual(order, ['click handled', 'restore finished']);
    // Later renders held by the route (the slider moved twice) finish before it goes.
    await page.unrouteAll({ behavior: 'wait' });
    const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
    assert.equal(faces.find((f) => f.number === 2)!.enabled, false, 'face 2 is switched off');
  });

  test("one face's fidelity changes its preview, and a drag shows every step without the network", async () => {
    // The five prepared renders of Face 3 (w = 0, .25, .5, .75, 1) are there before the drag starts.
    await page.getByRole('button', { name: 'Face 3', exact: true }).click();
    await card(3).getByText('Slider ready').waitFor({ timeout: 120_000 });

    const slider = card(3).getByRole('slider', { name: 'Fidelity' });
    const box = (await slider.boundingBox())!;
    const y = box.y + box.height / 2;
    const requests: Request[] = [];
    const count = (r: Request) => requests.push(r);
    const pictures: string[] = [];
    page.on('request', count);
    await page.mouse.move(box.x + 2, y);
    await page.mouse.down();
    for (let step = 0; step <= 10; step++) {
      await page.mouse.move(box.x + 2 + ((box.width - 4) * step) / 10, y);
      pictures.push(
        await card(3)
          .locator('canvas')
          .evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL()),
      );
    }
    page.off('request', count);
    assert.deepEqual(
      requests.map((r) => r.url()),
      [],
      'no request while dragging',
    );
    // Every step between two prepared renders is a new blend (the steps on a prepared w show that render).
    assert.ok(new Set(pictures).size >= 10, `a new picture for most steps: ${new Set(pictures).size} of 11`);
    assert.notEqual(pictures[0], pictures.at(-1));
    await page.mouse.up();
    await card(3).getByText('Exact render at 1.00').waitFor();
    await expectEventually(async () => {
      const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
      return faces.find((f) => f.number === 3)!.fidelity === 1;
    });
    await shoot('5-fidelity');
  });

  test('a box drawn where the detector missed a face becomes a face', async () => {
    const before = ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length;
    await page.getByRole('button', { name: 'Draw a box for a missed face' }).click();
    const photo = page.getByRole('img', { name: groupPhoto.name, exact: true });
    const frame = (await photo.boundingBox())!;
    await page.mouse.move(frame.x + 4, frame.y + frame.height - 70);
    await page.mouse.down();
    await page.mouse.move(frame.x + 64, frame.y + frame.height - 6, { steps: 5 });
    await page.mouse.up();
    await page.getByRole('button', { name: `Face ${before + 1}`, exact: true }).waitFor();
    const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
    assert.equal(faces.length, before + 1);
    assert.equal(faces.filter((f) => f.origin === 'drawn').length, 1);
  });

  test('deleting a face leaves the keyboard on the faces: the focus moves to a neighbour', async () => {
    const before = ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length;
    const last = card(before);
    await last.getByRole('button', { name: 'Delete face' }).focus();
    await page.keyboard.press('Enter');
    await expectEventually(
      async () => ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length === before - 1,
    );
    assert.match(
      await page.evaluate<string>('document.activeElement?.getAttribute("aria-label") ?? ""'),
      /^Face \d+$/,
    );
  });

  test('moving to the next photo and back keeps the focus on the button used', async () => {
    const [away, back] = (await page.getByRole('button', { name: 'Next photo' }).isEnabled())
      ? ['Next photo', 'Previous photo']
      : ['Previous photo', 'Next photo'];
    // The button used keeps the focus; at the album's end, where it is disabled, the other one takes it.
    for (const name of [away, back]) {
      await page.getByRole('button', { name }).click();
      await expectEventually(async () =>
        ['Next photo', 'Previous photo'].includes(
          await page.evaluate<string>('document.activeElement?.textContent ?? ""'),
        ),
      );
    }
    await page.getByRole('heading', { name: groupPhoto.name }).waitFor();
  });

  test('the album exports into a folder the user picks, and the files are on disk', async () => {
    await page.getByRole('button', { name: 'Back to album' }).click();
    await page.getByRole('button', { name: 'Export album' }).click();
    await page.getByRole('button', { name: /choose folder/i }).click();
    await browseTo(exports);
    await page
      .getByRole('dialog', { name: /where/i })
      .getByRole('button', { name: 'Choose this folder' })
      .click();
    await shoot('6-export');
    await accessible('export');
    await page.getByRole('dialog').getByRole('button', { name: 'Export', exact: true }).click();
    const job = await latestJob();
    await expectEventually(async () => (await jobState(job.id)) === 'done', 120_000);
    await page.getByRole('textbox', { name: 'Saved in' }).first().waitFor();
    // One picture per photo, each the size of its original.
    const done = (await host.api('job.get', { jobId: job.id })) as Job;
    const photos = (await host.api('photo.list', { albumId })) as Photo[];
    assert.equal(fs.readdirSync(exports).filter((f) => /\.(jpe?g|png)$/.test(f)).length, photos.length);
    for (const item of done.items!) {
      const meta = await sharp(item.output!).metadata();
      const original = await sharp(item.path).metadata();
      assert.deepEqual([meta.width, meta.height], [original.width, original.height], item.output!);
    }
    await shoot('7-jobs');
  });

  test('a crash during an export loses nothing: after a restart, Resume in the jobs tray finishes it', async () => {
    const second = path.join(exports, 'again');
    fs.mkdirSync(second);
    const job = (await host.api('export.start', { albumId, folder: second })) as Job;
    await host.kill();
    await openHost();
    await page
      .getByText(/interrupted/i)
      .first()
      .waitFor();
    await shoot('8-interrupted');
    await page.getByRole('button', { name: 'Resume' }).first().click();
    await expectEventually(async () => (await jobState(job.id)) === 'done', 120_000);
    const photos = (await host.api('photo.list', { albumId })) as Photo[];
    const written = fs.readdirSync(second).filter((f) => !f.startsWith('.'));
    assert.equal(written.length, job.total, `each photo once: ${written.join(', ')}`);
    assert.ok(photos.length >= job.total);
    await accessible('jobs');
  });

  test('About lists the licence of every component shipped, CodeFormer non-commercial among them', async () => {
    await page.getByRole('button', { name: 'About', exact: true }).click();
    const about = page.getByRole('dialog', { name: 'About Heirloom' });
    await about
      .getByText(/non-commercial/i)
      .first()
      .waitFor();
    const shipped = (await host.api('app.licences')) as { name: string }[];
    for (const name of ['better-sqlite3', 'onnxruntime-node', 'sharp', 'svelte', 'codeformer']) {
      assert.ok(
        shipped.some((l) => l.name === name),
        `${name} is listed`,
      );
      await about.getByText(name, { exact: true }).first().waitFor();
    }
    await shoot('9-about');
    await accessible('about');
    await about.getByRole('button', { name: 'Close' }).click();
  });
});

/** The card of face `n` in the editor's panel. */
function card(n: number): Locator {
  return page.getByRole('region', { name: `Face ${n}`, exact: true });
}

function isBackground(request: Request): boolean {
  return (request.postDataJSON() as { background?: boolean } | null)?.background === true;
}

async function latestJob(): Promise<Job> {
  const jobs = (await host.api('job.list', {})) as Job[];
  return jobs.reduce((a, b) => (b.id > a.id ? b : a));
}

async function jobState(jobId: number): Promise<string> {
  return ((await host.api('job.get', { jobId })) as Job).state;
}

async function expectEventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
