// Version metadata and the signature diff in the web console, in real
// headless Chromium against a real server (scripts/console_harness.ts) with
// an admin token: metadata set through the CLI at upload appears on the
// version's page; edited in the console, it is what the API answers; the
// version page compares signatures with the serving version, and a pin from
// the versions table shows the diff before it switches. Any console error or
// uncaught exception in the page fails the test.
//
// Needs the built server and console (`npm run build`) and Chromium; set
// MODELHOST_SKIP_BROWSER_TESTS=1 to skip on a machine without Chromium.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HALF_PLUS_TWO, ROOT, type ConsoleServer } from '../../scripts/console_harness.js';
import { STEP_MS, openPage, skipBrowser as skip, startConsoleAndChromium } from './browser_world.js';

const TOKEN = 'metadata-console-token';
const exec = promisify(execFile);

let served: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

const visible = (locator: Locator) => locator.first().waitFor({ state: 'visible', timeout: STEP_MS });

async function apiVersion(v: number) {
  const res = await fetch(`${served.url}/api/v1/models/f_mnist/versions/${v}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { metadata: unknown };
}

describe.skipIf(skip)('version metadata and signature diff in the console (Chromium)', () => {
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

  it('shows metadata set by the CLI, saves edits the API then answers, and shows the signature diff before a pin', async () => {
    // Upload half_plus_two as f_mnist version 3 with the CLI, keeping version 2 serving.
    const cli = await exec(
      process.execPath,
      [
        path.join(ROOT, 'bin/modelhost.js'),
        'upload', 'f_mnist', HALF_PLUS_TWO, '--no-activate',
        '--description', 'half plus two, uploaded by the CLI',
        '--tag', 'stage=dev', '--tag', 'team=serving',
        '--metric', 'mae=0.0125', '--metric', 'val/acc=0.91',
        '--source', 'ana@laptop git 3f2a1c9',
      ],
      { env: { ...process.env, MODELHOST_SERVER: served.url, MODELHOST_ADMIN_TOKEN: TOKEN } },
    );
    expect(cli.stdout).toMatch(/^Uploaded f_mnist version 3/);

    ({ context, page, problems } = await openPage(browser, 1280, 900));

    // From the versions table to version 3's page.
    await page.goto(`${served.url}/models/f_mnist`);
    await page.getByRole('link', { name: 'Version 3: metadata and signature changes' }).click();
    await page.waitForURL(/\/models\/f_mnist\/versions\/3$/);
    await visible(page.getByRole('heading', { name: 'f_mnist v3', level: 1 }));
    const panel = page.getByTestId('version-metadata');
    await visible(panel.getByTestId('metadata-description').getByText('half plus two, uploaded by the CLI'));
    expect(await panel.getByTestId('metadata-source').textContent()).toBe('ana@laptop git 3f2a1c9');
    expect(await panel.getByTestId('metadata-tags').locator('li').allTextContents()).toEqual(['stage=dev', 'team=serving']);
    expect(await panel.getByTestId('metadata-metrics').locator('li').allTextContents()).toEqual(['mae=0.0125', 'val/acc=0.91']);

    // The signature diff against the serving version (2, f_mnist's CNN): half_plus_two breaks its clients.
    const diff = page.getByTestId('signature-diff');
    await visible(diff);
    expect(await page.getByLabel('Compared with version').inputValue()).toBe('2');
    await visible(diff.getByTestId('breaking-changes').getByText('signature probabilities removed'));
    await visible(diff.getByText('signature serving_default: input "input_images" removed'));
    // Compared with version 1 (the same CNN as 2) instead.
    await page.getByLabel('Compared with version').selectOption('1');
    await visible(page.getByTestId('breaking-changes').getByText('would break clients of version 1'));

    // Edit: change a tag, remove one, remove a metric, add one, change the description; the token is asked for once.
    await panel.getByRole('button', { name: 'Edit metadata' }).click();
    await panel.getByLabel('Description').fill('half plus two\nchecked by hand');
    await panel.getByLabel('Tag 1 value').fill('prod');
    await panel.getByRole('button', { name: 'Remove tag 2' }).click();
    await panel.getByRole('button', { name: 'Remove metric 1' }).click();
    await panel.getByRole('button', { name: 'Add metric' }).click();
    await panel.getByLabel('Metric 2 name').fill('accuracy');
    await panel.getByLabel('Metric 2 value').fill('not a number');
    await panel.getByRole('button', { name: 'Save metadata' }).click();
    await visible(panel.getByRole('alert').getByText('Metric accuracy must be a number, got "not a number".'));
    await panel.getByLabel('Metric 2 value').fill('0.97');
    await panel.getByRole('button', { name: 'Save metadata' }).click();
    const dialog = page.getByRole('dialog', { name: 'Admin token' });
    await visible(dialog);
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Use token' }).click();
    await visible(panel.getByTestId('metadata-tags').getByText('stage=prod'));
    expect(await panel.getByTestId('metadata-metrics').locator('li').allTextContents()).toEqual(['val/acc=0.91', 'accuracy=0.97']);
    expect((await apiVersion(3)).metadata).toEqual({
      description: 'half plus two\nchecked by hand',
      tags: { stage: 'prod' },
      metrics: { 'val/acc': 0.91, accuracy: 0.97 },
      source: 'ana@laptop git 3f2a1c9',
    });

    // A tag key the server refuses: its message is shown, nothing changes.
    await panel.getByRole('button', { name: 'Edit metadata' }).click();
    await panel.getByRole('button', { name: 'Add tag' }).click();
    await panel.getByLabel('Tag 2 name').fill('bad key');
    await panel.getByLabel('Tag 2 value').fill('x');
    await panel.getByRole('button', { name: 'Save metadata' }).click();
    await visible(panel.getByRole('alert').getByText(/Tag key "bad key" is not valid/));
    // Chromium logs the refused request itself; that one entry is expected, anything else is not.
    const refused = problems.findIndex((p) => /status of 400 .*\/api\/v1\/models\/f_mnist\/versions\/3\)$/.test(p));
    expect(refused, problems.join('\n')).toBeGreaterThanOrEqual(0);
    problems.splice(refused, 1);
    await panel.getByRole('button', { name: 'Cancel' }).click();
    expect(((await apiVersion(3)).metadata as { tags: unknown }).tags).toEqual({ stage: 'prod' });

    // Pin version 3 from the model page: the dialog shows what breaks clients of version 2 first.
    await page.getByRole('link', { name: 'f_mnist', exact: true }).click();
    await page.waitForURL(/\/models\/f_mnist$/);
    await page.getByRole('button', { name: 'Pin version 3' }).click();
    const pin = page.getByRole('dialog', { name: 'Pin version 3?' });
    await visible(pin.getByTestId('breaking-changes').getByText('would break clients of version 2'));
    await visible(pin.getByText('signature probabilities removed'));
    await pin.getByRole('button', { name: 'Pin', exact: true }).click();
    await visible(page.getByTestId('serving-mode').getByText('pinned to v3'));
    await visible(page.getByTestId('events').getByText('Metadata changed'));
  });

  it('is usable 390 px wide: the version page and its edit form fit, every control labelled', async () => {
    ({ context, page, problems } = await openPage(browser, 390, 844));
    await page.goto(`${served.url}/models/f_mnist/versions/3`);
    await visible(page.getByTestId('metadata-tags').getByText('stage=prod'));
    await visible(page.getByTestId('signature-diff'));
    await page.getByRole('button', { name: 'Edit metadata' }).click();
    await visible(page.getByLabel('Metric 1 value'));
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
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
    expect(layout.unlabelled).toEqual([]);
  });
});
