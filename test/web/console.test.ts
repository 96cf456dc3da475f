// The web console end to end, in real headless Chromium (Debian's chromium
// through playwright-core) against a real server on a temporary copy of
// ./models with a temporary registry and an admin token: see f_mnist's
// versions, upload a SavedModel folder, pin, try JSON, roll back, classify a
// held-out Fashion-MNIST image, retire and restore; then the overview and a phone-sized
// screen. Any console error or uncaught exception in the page fails the test.
//
// Needs the built console (`npm test` builds it first) and Chromium
// (`apt-get install -y chromium`; .ci/run installs it). Set
// MODELHOST_SKIP_BROWSER_TESTS=1 to skip on a machine without Chromium.
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLASS_NAMES, heldOutImages, imagePng } from '../../examples/f_mnist/data.js';
import { HALF_PLUS_TWO, type ConsoleServer } from '../../scripts/console_harness.js';
import { STEP_MS, openPage, skipBrowser as skip, startConsoleAndChromium } from './browser_world.js';

const TOKEN = 'console-e2e-token';

let served: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

/** Waits until `locator` (first match) is visible. */
const visible = (locator: Locator) => locator.first().waitFor({ state: 'visible', timeout: STEP_MS });
const row = (version: number) => page.locator(`table.versions tr[data-version="${version}"]`);

describe.skipIf(skip)('web console in Chromium', () => {
  beforeAll(async () => {
    ({ served, browser } = await startConsoleAndChromium({ adminToken: TOKEN }));
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  afterEach(async () => {
    await context?.close();
    expect(problems, 'console errors or uncaught exceptions in the page').toEqual([]);
  });

  const open = async (width: number, height: number) => {
    ({ context, page, problems } = await openPage(browser, width, height));
  };

  it('shows f_mnist, uploads, pins, rolls back, classifies an image, retires and restores, asking for the token once', async () => {
    const images = heldOutImages();
    const index = 0; // held-out image 0, an ankle boot that both versions classify correctly
    const truth = CLASS_NAMES[images.labels[index]];
    await open(1280, 900);

    // Overview → f_mnist, versions 1 and 2 AVAILABLE.
    await page.goto(`${served.url}/`);
    await page.getByRole('link', { name: 'f_mnist' }).click();
    await page.waitForURL(/\/models\/f_mnist$/);
    await visible(page.getByRole('heading', { name: 'f_mnist', level: 1 }));
    await visible(row(1).getByText('AVAILABLE', { exact: true }));
    await visible(row(2).getByText('AVAILABLE', { exact: true }));
    expect(await page.getByTestId('serving-version').textContent()).toContain('v2');

    // Upload the half_plus_two SavedModel folder as version 3 without serving it (keeps v2, pinned).
    await page.getByTestId('upload-folder').setInputFiles(HALF_PLUS_TWO);
    await visible(page.getByText(/Selected:.*folder 00000123/));
    await page.getByLabel('Serve it once loaded').uncheck();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    // The server has an admin token: the console asks for it before the first change.
    const dialog = page.getByRole('dialog', { name: 'Admin token' });
    await visible(dialog);
    await dialog.getByLabel('Token').fill('not-the-token');
    await dialog.getByRole('button', { name: 'Use token' }).click();
    await visible(dialog.getByText("That is not this server's admin token."));
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Use token' }).click();
    await visible(page.getByTestId('upload-result').getByText('Uploaded version 3'));
    await visible(row(3).getByText('AVAILABLE', { exact: true }));
    await visible(page.getByTestId('serving-mode').getByText('pinned to v2'));

    // Pin version 3, confirming after the signature diff (no second token prompt: it is kept for the session).
    await page.getByRole('button', { name: 'Pin version 3' }).click();
    const pinDialog = page.getByRole('dialog', { name: 'Pin version 3?' });
    await visible(pinDialog.getByTestId('signature-diff'));
    await pinDialog.getByRole('button', { name: 'Pin', exact: true }).click();
    await visible(page.getByTestId('serving-mode').getByText('pinned to v3'));
    await visible(row(3).getByText('serving'));
    expect(await dialog.isVisible()).toBe(false);

    // Try it, numeric: the JSON editor is prefilled from x (DT_FLOAT, [-1, 1]); 0.5 * 0 + 2 = 2.
    const tryIt = page.locator('section', { has: page.getByRole('heading', { name: 'Try it' }) });
    await visible(tryIt.getByTestId('try-json-editor'));
    expect(JSON.parse(await tryIt.getByTestId('try-json-editor').inputValue())).toEqual({ signature_name: 'serving_default', instances: [[0]] });
    await tryIt.getByRole('button', { name: 'Send' }).click();
    await visible(tryIt.getByTestId('try-json-result'));
    expect(JSON.parse((await tryIt.getByTestId('try-json-result').textContent()) ?? '')).toEqual({ predictions: [[2]] });
    expect(await tryIt.getByTestId('answered-by').textContent()).toMatch(/Answered by version 3 in [\d.]+ ms/);

    // Roll back to version 2, confirming first.
    await page.getByRole('button', { name: 'Roll back to version 2' }).click();
    const confirm = page.getByRole('dialog', { name: 'Roll back f_mnist?' });
    await visible(confirm.getByTestId('breaking-changes').getByText('would break clients of version 3'));
    await confirm.getByRole('button', { name: 'Roll back' }).click();
    await visible(page.getByTestId('serving-mode').getByText('pinned to v2'));
    await visible(page.getByTestId('events').getByText('Rolled back'));

    // Try it, image: a real held-out Fashion-MNIST image → its true class name, and the scores.
    await tryIt.getByTestId('try-image-input').setInputFiles({ name: 'image.png', mimeType: 'image/png', buffer: Buffer.from(imagePng(images, index)) });
    await visible(tryIt.getByTestId('prediction'));
    expect(await tryIt.getByTestId('prediction').textContent()).toBe(truth);
    expect(await tryIt.getByTestId('answered-by').textContent()).toMatch(/Answered by version 2 in [\d.]+ ms/);
    await visible(tryIt.getByTestId('scores').getByText(`9 · ${truth}`));

    // Retire version 1, confirming first.
    await page.getByRole('button', { name: 'Retire version 1' }).click();
    const retire = page.getByRole('dialog', { name: 'Retire version 1?' });
    await retire.getByRole('button', { name: 'Retire' }).click();
    await visible(row(1).getByText('RETIRED'));

    // Restore version 1 (no confirmation: nothing is lost): no longer retired, its actions are back.
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await visible(row(1).getByRole('button', { name: 'Retire version 1' }));
    await visible(row(1).getByText('AVAILABLE', { exact: true }));
    expect(await row(1).getByText('RETIRED').count()).toBe(0);
    expect((await row(1).getAttribute('class')) ?? '').not.toContain('row-retired');
    await visible(page.getByTestId('events').getByText('Restored'));

    // The overview shows the pin.
    await page.getByRole('link', { name: 'Models', exact: true }).first().click();
    const f = page.locator('tr[data-model="f_mnist"]');
    await visible(f.getByText('pinned to v2'));
    expect(await f.locator('td[data-label="Serving"]').textContent()).toBe('v2');
  });

  it('is usable 390 px wide: no sideways scrolling, versions as cards, every control labelled', async () => {
    await open(390, 844);
    await page.goto(`${served.url}/models/f_mnist`);
    await visible(row(2).getByText('AVAILABLE', { exact: true }));
    await visible(page.getByRole('button', { name: 'Pin version 3' }));
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      rowDisplay: getComputedStyle(document.querySelector('table.versions tbody tr')!).display,
      unlabelled: [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !(el as HTMLElement).hidden && (el as HTMLInputElement).type !== 'hidden')
        .filter((el) => {
          const labels = (el as HTMLInputElement).labels;
          const name = el.getAttribute('aria-label') || (labels && labels.length > 0 ? 'labelled' : '') || (el.tagName === 'BUTTON' ? el.textContent?.trim() : '');
          return !name;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.rowDisplay).toBe('block');
    expect(layout.unlabelled).toEqual([]);
    // Keyboard: Tab reaches the first version action and Enter opens its dialog.
    await page.getByRole('button', { name: 'Label version 3' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Label version 3' });
    await visible(dialog);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });
});
