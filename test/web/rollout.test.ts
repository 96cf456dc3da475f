// The console's rollout controls in real headless Chromium against a real
// server on a temporary copy of ./models (f_mnist v2 serving, v1 beside it):
// start a rollout of v1 to half of the requests, watch the traffic chart and
// the rollout's figures move while real predict requests (naming no version)
// arrive, abort it, all from the console alone; the server then sends every
// request to v2 again and the history shows the rollout. Any console error
// or uncaught exception in the page fails the test.
//
// Needs the built console (`npm test` builds it first) and Chromium; set
// MODELHOST_SKIP_BROWSER_TESTS=1 to skip on a machine without Chromium.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64 } from '../../examples/f_mnist/data.js';
import type { ConsoleServer } from '../../scripts/console_harness.js';
import { openPage, skipBrowser as skip, startConsoleAndChromium } from './browser_world.js';

/** The charts poll every 5 s, the rollout panel every 3 s: two polls and some slack. */
const POLL_WAIT_MS = 20_000;

let served: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

/** Predict requests naming no version, each with its own request id, until stopped; counts the answers. */
function traffic(body: string): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      const res = await fetch(`${served.url}/v1/models/f_mnist:predict`, { method: 'POST', headers: { 'X-Request-Id': `browser-${sent}` }, body });
      await res.text();
      expect(res.status).toBe(200);
      sent++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

describe.skipIf(skip)('rollout controls in Chromium', () => {
  beforeAll(async () => {
    ({ served, browser } = await startConsoleAndChromium());
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await served?.stop();
  });

  it('starts a rollout, watches the chart move, aborts it, from the console alone', async () => {
    const body = JSON.stringify({ instances: [imageB64(heldOutImages(), 0)] });
    ({ context, page, problems } = await openPage(browser, 1280, 1000));
    await page.goto(`${served.url}/models/f_mnist`);
    const panel = page.getByRole('region', { name: 'Rollout' });
    await page.locator('[data-testid="rollout"][data-state="none"]').waitFor();

    // Start: v1 (the version beside the serving v2) takes half of the requests naming no version.
    await panel.getByLabel('Candidate').selectOption('1');
    await panel.getByLabel('Mode').selectOption('canary');
    await panel.getByLabel('Percentage').fill('50');
    await panel.getByRole('button', { name: 'Start rollout' }).click();
    await page.locator('[data-testid="rollout"][data-state="running"]').waitFor();
    expect(await panel.getByTestId('rollout-percent').textContent()).toBe('50%');
    expect(await panel.getByTestId('rollout-status').textContent()).toMatch(/Rolling out v1 to 50% of the requests naming no version; v2 answers the rest\./);

    // Traffic naming no version: the chart's latest rate moves, and both versions get requests.
    const traffic1 = traffic(body);
    try {
      const charts = page.getByTestId('live-charts');
      const plot = page.getByTestId('chart-requests').getByRole('img');
      await plot.waitFor();
      const latestBefore = await plot.getAttribute('data-latest');
      await expect.poll(() => plot.getAttribute('data-latest'), { timeout: POLL_WAIT_MS }).not.toBe(latestBefore);
      const legend = async () => (await page.getByTestId('chart-requests').locator('.u-legend .u-series .u-label').allTextContents()).filter((l) => l !== 'Time');
      await expect.poll(legend, { timeout: POLL_WAIT_MS }).toEqual(['All', 'v1', 'v2']);
      const requestsOf = async (v: string) => Number(await page.getByTestId('live-summary').locator(`tr[data-version="${v}"] td[data-label="Requests"]`).textContent());
      await expect.poll(() => requestsOf('1'), { timeout: POLL_WAIT_MS }).toBeGreaterThan(5);
      expect(await requestsOf('2')).toBeGreaterThan(5);
      const before = Number(await charts.getAttribute('data-requests'));
      await expect.poll(async () => Number(await charts.getAttribute('data-requests')), { timeout: POLL_WAIT_MS }).toBeGreaterThan(before);
      // The rollout's own figures: the candidate against the stable version.
      const side = (s: string) => panel.getByTestId('rollout-sides').locator(`tr[data-side="${s}"] td[data-label="Requests"]`);
      await expect.poll(async () => Number(await side('candidate').textContent()), { timeout: POLL_WAIT_MS }).toBeGreaterThan(5);
      expect(Number(await side('stable').textContent())).toBeGreaterThan(5);
      expect(await panel.getByTestId('rollout-sides').locator('tr[data-side="candidate"] td[data-label="Errors"]').textContent()).toBe('0 (0%)');

      // Abort, confirmed in the dialog.
      await panel.getByRole('button', { name: 'Abort' }).click();
      const dialog = page.getByRole('dialog', { name: 'Abort the rollout of version 1?' });
      await dialog.getByRole('button', { name: 'Abort rollout' }).click();
      await page.locator('[data-testid="rollout"][data-state="aborted"]').waitFor();
      expect(await panel.getByTestId('rollout-ended').textContent()).toMatch(/The last rollout, of v1, was aborted .*: aborted by loopback@127\.0\.0\.1 \(claims "console"\)/);
      // The form is back for the next one.
      await panel.getByRole('button', { name: 'Start rollout' }).waitFor();
    } finally {
      await traffic1.stop();
    }

    // The server agrees: v2 answers everything again, and the history says what happened.
    const rollout = (await (await fetch(`${served.url}/api/v1/models/f_mnist/rollout`)).json()) as { state: string; stable: number; candidate: number };
    expect(rollout).toMatchObject({ state: 'aborted', stable: 2, candidate: 1 });
    const model = (await (await fetch(`${served.url}/api/v1/models/f_mnist`)).json()) as { active_version: number };
    expect(model.active_version).toBe(2);
    const history = page.getByRole('region', { name: 'History' });
    await expect.poll(() => history.getByText('Rollout aborted').count(), { timeout: POLL_WAIT_MS }).toBeGreaterThan(0);
    expect(await history.getByText('Rollout started').count()).toBeGreaterThan(0);
    expect(problems, 'console errors or uncaught exceptions in the page').toEqual([]);
  }, 120_000);
});
