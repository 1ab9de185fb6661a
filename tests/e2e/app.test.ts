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
    // The keyboard is where it was: on the card of the model just installed.
    await expectEventually(() =>
      detector.evaluate((card) => {
        const el = card as unknown as {
          contains(n: unknown): boolean;
          ownerDocument: { activeElement: unknown };
        };
        return el.contains(el.ownerDocument.activeElement);
      }),
    );

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
    const listed = (await host.api('model.list')) as { id: string; status: string }[];
    // The optional inpainting model stays as it was: nobody asked for it yet.
    assert.deepEqual(
      listed.map((m) => [m.id, m.status]),
      [
        ['yunet-2026may', 'ready'],
        ['codeformer', 'ready'],
        ['codeformer-inpainting', 'missing'],
      ],
    );
    await shoot('2-models-installed');
  });

  test('an album is created and a folder of photos imported through the folder browser', async () => {
    await page.getByRole('button', { name: 'Ready. Go to your library' }).click();
    await page.getByRole('button', { name: 'New album' }).click();
    await page.getByRole('textbox', { name: 'Album name' }).fill('Whole photos');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    // The form is gone: the focus is on the new album in the list.
    await expectEventually(async () =>
      (await page.evaluate<string>('document.activeElement?.textContent ?? ""')).includes('Whole photos'),
    );
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
    // Found by the detector, no photo has been looked at yet: each needs review, and its filter says how many.
    await page
      .getByRole('button', {
        name: new RegExp(`^Needs review ${photos.filter((p) => p.faceCount > 0).length}$`),
      })
      .waitFor();
    // The album's face finder: YuNet; RetinaFace says it is not installed. Finding again asks first.
    const finder = page.getByRole('combobox', { name: 'Faces found by' });
    assert.equal(await finder.inputValue(), 'yunet');
    assert.equal(await finder.getByRole('option', { name: 'RetinaFace (not installed)' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Find faces again…' }).click();
    const asking = page.getByRole('dialog', { name: 'Find the faces again in “Whole photos”?' });
    await asking.getByRole('button', { name: 'Keep the faces' }).click();
    await asking.waitFor({ state: 'detached' });
    await shoot('3-library');
    await accessible('library');
  });

  test('the group photo opens with Enter, with one button per face found and the focus on a face', async () => {
    await page
      .getByRole('button', { name: new RegExp(`^${groupPhoto.name.replace('.', '\\.')}\\b`) })
      .focus();
    await page.keyboard.press('Enter');
    // The tile that had the focus is gone: the focus is on the photo's selected face, not lost to the page.
    await expectEventually(async () => /^Face \d+$/.test(await focusedName()));
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

  test('the face boxes are one Tab stop, the arrow keys move between them, and only one card is open', async () => {
    const numbers = ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[])
      .map((f) => f.number)
      .sort((a, b) => a - b);
    // Tab from the bar's last button reaches one box, and the next Tab leaves the photo for the panel.
    await page.getByRole('button', { name: 'Export photo' }).focus();
    await page.keyboard.press('Tab');
    assert.match(await focusedName(), /^Face \d+$/);
    await page.keyboard.press('Tab');
    assert.equal(await focusedName(), 'Draw a box for a missed face');
    assert.equal(await page.locator('[data-face-id][tabindex="0"]').count(), 1);
    // On a box, → goes to the next face by number (and selects it), ← back.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press(String(numbers[0]));
    await expectEventually(async () => (await focusedName()) === `Face ${numbers[0]}`);
    await page.keyboard.press('ArrowRight');
    assert.equal(await focusedName(), `Face ${numbers[1]}`);
    await card(numbers[1]!).waitFor();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await focusedName(), `Face ${numbers[0]}`);
    // The selected face's card is open; every other face is one button that says its state.
    assert.equal(await page.getByRole('slider', { name: 'Fidelity' }).count(), 1);
    assert.equal(await page.getByRole('switch', { name: 'Restore this face' }).count(), 1);
    await page
      .getByRole('button', { name: new RegExp(`^Face ${numbers[1]}, restored at \\d\\.\\d\\d$`) })
      .waitFor();
    const panelStops = await page
      .getByRole('complementary', { name: 'Faces' })
      .locator('button:not([disabled]):not([tabindex="-1"]), input:not([disabled]):not([type="radio"])')
      .count();
    // Draw a box, one button per other face, the open card's switch, slider and Delete face, and its blend
    // choice (a radio group: one Tab stop).
    assert.equal(panelStops, 1 + (numbers.length - 1) + 3);
    const open = card(numbers[0]!);
    // What to do (restore, colorize, repair damage) and how to blend: two radio groups.
    assert.equal(await open.getByRole('radio').count(), 5);
    await shoot('4-face-cards');
    await accessible('face cards');

    // "Whole square" is saved for that face, and its render is made again the new way.
    const saved = page.waitForResponse(
      (r) =>
        r.url().endsWith('/api/face.update') &&
        (r.request().postDataJSON() as { blend?: string }).blend === 'square',
    );
    const rendered = page.waitForRequest((r) => r.url().endsWith('/api/face.preview') && !isBackground(r));
    await open.getByRole('radio', { name: 'Whole square' }).check();
    assert.equal(((await (await saved).json()) as { value: { blend: string } }).value.blend, 'square');
    await rendered;
    await open.getByRole('radio', { name: 'Face and hair only' }).check();
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
    // Face 2's card opens when it is chosen; its switch is in it.
    await page.getByRole('button', { name: /^Face 2, / }).click();
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

  test('damage painted on the photo over a face is saved where it was painted, shown, and taken back', async () => {
    // Repair damage needs the inpainting model: without it the choice says what to install.
    const repair = card(3).getByRole('radio', { name: 'Repair damage' });
    assert.equal(await repair.isDisabled(), true);
    await host.api('model.import', {
      id: 'codeformer-inpainting',
      path: models.inpainting,
      acceptLicense: true,
    });
    await expectEventually(async () => {
      const list = (await host.api('model.list', {})) as { id: string; status: string }[];
      return list.some((m) => m.id === 'codeformer-inpainting' && m.status === 'ready');
    }, 120_000);
    // Installed meanwhile (as on the Models screen), the choice opens without leaving the editor.
    await expectEventually(async () => !(await repair.isDisabled()));
    await repair.check();
    assert.equal(await card(3).getByRole('slider', { name: 'Fidelity' }).count(), 0, 'no fidelity to set');
    await card(3).getByRole('button', { name: 'Paint damage' }).click();
    assert.equal(
      await card(3).getByRole('button', { name: 'Paint damage' }).getAttribute('aria-pressed'),
      'true',
    );

    // A stroke across the middle of Face 3's box, dragged on the photo.
    const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
    const face = faces.find((f) => f.number === 3)!;
    const box = (await page.getByRole('button', { name: 'Face 3', exact: true }).first().boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width * (0.3 + (0.4 * i) / 8), y);
    await page.mouse.up();
    let saved: Face | undefined;
    await expectEventually(async () => {
      const list = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
      saved = list.find((f) => f.id === face.id);
      return saved?.damage.length === 1;
    });
    assert.equal(saved!.task, 'inpaint');
    // Its points are in the photo's pixels, across the middle of the face's box.
    const [bx, by, bw, bh] = face.box;
    const points = saved!.damage[0]!.points;
    assert.ok(points.length >= 2, `${points.length} points`);
    for (const [x, py] of points) {
      assert.ok(x >= bx + 0.2 * bw && x <= bx + 0.8 * bw, `x ${x} within the face (${bx}…${bx + bw})`);
      assert.ok(Math.abs(py - (by + bh / 2)) < 0.1 * bh, `y ${py} near the face's middle (${by + bh / 2})`);
    }
    await card(3).getByText('1 stroke of damage painted').waitFor();
    await shoot('5b-damage');
    await accessible('repair damage');
    await card(3).getByRole('button', { name: 'Undo stroke' }).click();
    await expectEventually(async () => {
      const list = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
      return list.find((f) => f.id === face.id)!.damage.length === 0;
    });
    await page.keyboard.press('Escape');
    await card(3).getByRole('radio', { name: 'Restore' }).check();
  });

  test('a box too small for a face is refused with a notice that says how big to draw', async () => {
    const before = ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length;
    await page.getByRole('button', { name: 'Draw a box for a missed face' }).click();
    const frame = (await page.getByRole('img', { name: groupPhoto.name, exact: true }).boundingBox())!;
    await page.mouse.move(frame.x + 4, frame.y + frame.height - 10);
    await page.mouse.down();
    await page.mouse.move(frame.x + 7, frame.y + frame.height - 7, { steps: 2 });
    await page.mouse.up();
    await page.getByText(/^That box is too small for a face: draw at least 16 × 16 pixels/).waitFor();
    assert.equal(((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length, before);
    await shoot('5-too-small');
    // Still armed for another try; Escape puts the drawing away.
    await page.keyboard.press('Escape');
    assert.equal(
      await page.getByRole('button', { name: 'Draw a box for a missed face' }).getAttribute('aria-pressed'),
      'false',
    );
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
    const faces = (await host.api('face.list', { photoId: groupPhoto.id })) as Face[];
    const last = Math.max(...faces.map((f) => f.number));
    await page.getByRole('button', { name: `Face ${last}`, exact: true }).click();
    await card(last).getByRole('button', { name: 'Delete face' }).focus();
    await page.keyboard.press('Enter');
    await expectEventually(
      async () =>
        ((await host.api('face.list', { photoId: groupPhoto.id })) as Face[]).length === faces.length - 1,
    );
    assert.match(await focusedName(), /^Face \d+$/);
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
    // The dialog closes once the export's job is made: the latest job is then that one.
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
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

  test('exporting again into the same folder says so first, and Replace earlier exports overwrites them without -1 copies', async () => {
    const images = () =>
      fs
        .readdirSync(exports)
        .filter((f) => /\.(jpe?g|png)$/.test(f))
        .sort();
    const before = images();
    const inodes = before.map((f) => fs.statSync(path.join(exports, f)).ino);
    await page.getByRole('button', { name: 'Export album' }).click();
    const dialog = page.getByRole('dialog', { name: /^Export album/ });
    // The album remembers its folder, where the last export's files are.
    const notice = dialog.getByRole('group', {
      name: `${before.length} files of these names are already in that folder`,
    });
    await notice.waitFor();
    const keep = notice.getByRole('radio', { name: 'Keep both (adds -1, -2…)' });
    assert.equal(await keep.isChecked(), true, 'nothing is replaced unless the user asks');
    await notice.getByRole('radio', { name: 'Replace earlier exports' }).check();
    await shoot('7-export-again');
    await accessible('export again');
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    const job = await latestJob();
    await expectEventually(async () => (await jobState(job.id)) === 'done', 120_000);
    assert.deepEqual(images(), before, 'the same names, no -1 copies');
    before.forEach((f, i) =>
      assert.notEqual(fs.statSync(path.join(exports, f)).ino, inodes[i], `${f} replaced`),
    );
  });

  test("the export's folder picker refuses a folder of the album's originals, and makes a new folder to export into", async () => {
    await page.getByRole('button', { name: 'Export album' }).click();
    const exporting = page.getByRole('dialog', { name: /^Export album/ });
    const picker = page.getByRole('dialog', { name: /where/i });
    const choose = picker.getByRole('button', { name: 'Choose this folder' });
    await exporting.getByRole('button', { name: /choose folder/i }).click();
    await browseTo(FOLDER);
    await picker
      .getByText(
        'This folder holds originals of this album. Heirloom never writes beside them: choose or create another folder.',
      )
      .waitFor();
    assert.equal(await choose.isDisabled(), true);
    await shoot('8-originals-refused');
    await accessible('folder of originals');
    // Escape closes the folder browser only: the export dialog stays, the focus back on the button that opened it.
    await page.keyboard.press('Escape');
    await picker.waitFor({ state: 'hidden' });
    await exporting.waitFor();
    await expectEventually(async () => (await focusedName()) === 'Choose folder…');

    await exporting.getByRole('button', { name: /choose folder/i }).click();
    await browseTo(exports);
    await picker.getByRole('button', { name: 'New folder…' }).click();
    await picker.getByRole('textbox', { name: 'Name of the new folder' }).fill('Restored');
    await picker.getByRole('button', { name: 'Make folder' }).click();
    // The new folder is open, and the button that chooses it has the focus.
    await picker.locator('[aria-current="location"]', { hasText: 'Restored' }).waitFor();
    assert.equal(fs.statSync(path.join(exports, 'Restored')).isDirectory(), true);
    await expectEventually(async () => (await focusedName()) === 'Choose this folder');
    await shoot('8-new-folder');
    await accessible('new folder');
    await choose.click();
    await picker.waitFor({ state: 'hidden' });
    assert.equal(
      await exporting.getByRole('textbox', { name: 'Export to folder' }).inputValue(),
      path.join(exports, 'Restored'),
    );
    await exporting.getByRole('button', { name: 'Cancel' }).click();
    await exporting.waitFor({ state: 'hidden' });
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

  test('the album exports at 2×: without Real-ESRGAN the dialog says it enlarges by plain resizing, and the files are twice the size', async () => {
    const twice = path.join(exports, 'twice');
    fs.mkdirSync(twice);
    await page.getByRole('button', { name: 'Export album' }).click();
    const dialog = page.getByRole('dialog', { name: /^Export album/ });
    const size = dialog.getByRole('combobox', { name: 'Size' });
    assert.equal(await size.inputValue(), '1', 'the original size until the album is exported bigger');
    await dialog.getByRole('button', { name: /choose folder/i }).click();
    await browseTo(twice);
    await page
      .getByRole('dialog', { name: /where/i })
      .getByRole('button', { name: 'Choose this folder' })
      .click();
    await size.selectOption({ label: '2×' });
    await dialog
      .getByText(
        'Enlarged by plain resizing: install Photo enlarger (Real-ESRGAN) on the Models screen for sharper detail',
      )
      .waitFor();
    await shoot('9-export-2x');
    await accessible('export at 2×');
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    const job = await latestJob();
    await expectEventually(async () => (await jobState(job.id)) === 'done', 120_000);
    const done = (await host.api('job.get', { jobId: job.id })) as Job;
    assert.equal(done.failed, 0, JSON.stringify(done.items));
    for (const item of done.items!) {
      const [exported, original] = await Promise.all([
        sharp(item.output!).metadata(),
        sharp(item.path).metadata(),
      ]);
      assert.deepEqual(
        [exported.width, exported.height],
        [2 * original.width, 2 * original.height],
        item.output!,
      );
    }
    // The jobs tray says once how the photos were enlarged.
    await page
      .getByText(/^Enlarged by plain resizing: the photo enlarger \(Real-ESRGAN\) is not installed/)
      .first()
      .waitFor();
    await shoot('9-jobs-2x');
    // The album remembers the size for its next export.
    await page.getByRole('button', { name: 'Export album' }).click();
    assert.equal(await size.inputValue(), '2');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
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

/** The accessible name (aria-label, else text) of what has the focus. */
function focusedName(): Promise<string> {
  return page.evaluate<string>(
    '(document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.textContent ?? "").trim()',
  );
}

/** The open card of face `n` in the editor's panel (the selected face's). */
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
