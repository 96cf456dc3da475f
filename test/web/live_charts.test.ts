// The model page's live traffic charts in real headless Chromium (Debian's
// chromium through playwright-core) against a real server on a temporary
// copy of ./models: real predict requests to f_mnist's two versions, the
// page's figures and uPlot charts after them, then more requests while the
// page is open, which its next poll shows. Any console error or uncaught
// exception in the page (the CSP refusing a style, say) fails the test.
//
// Needs the built console (`npm test` builds it first) and Chromium; set
// MODELHOST_SKIP_BROWSER_TESTS=1 to skip on a machine without Chromium.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { heldOutImages, imageB64 } from '../../examples/f_mnist/data.js';
import type { ConsoleServer } from '../../scripts/console_harness.js';
import { openPage, skipBrowser as skip, startConsoleAndChromium } from './browser_world.js';

/** The console polls every 5 s: two polls and some slack. */
const POLL_WAIT_MS = 20_000;

let served: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

async function predict(pathSuffix: string, body: string, status: number): Promise<void> {
  const res = await fetch(`${served.url}/v1/models/f_mnist${pathSuffix}:predict`, { method: 'POST', body });
  await res.text();
  expect(res.status).toBe(status);
}

describe.skipIf(skip)('live charts in Chromium', () => {
  beforeAll(async () => {
    ({ served, browser } = await startConsoleAndChromium());
  });

  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  afterEach(async () => {
    await context?.close();
    expect(problems, 'console errors or uncaught exceptions in the page').toEqual([]);
  });

  it("charts each version's requests, errors and latency, and follows new traffic live", async () => {
    const images = heldOutImages();
    const one = JSON.stringify({ instances: [imageB64(images, 0)] });
    // Known traffic: 12 requests to v1, 20 to the serving v2, 3 refused by v2 (a number where f_mnist takes an image).
    for (let i = 0; i < 12; i++) await predict('/versions/1', one, 200);
    for (let i = 0; i < 20; i++) await predict('', one, 200);
    for (let i = 0; i < 3; i++) await predict('/versions/2', '{"instances": [1.0]}', 400);

    ({ context, page, problems } = await openPage(browser, 1280, 900));
    await page.goto(`${served.url}/models/f_mnist`);
    const section = page.getByRole('region', { name: 'Traffic' });
    await section.waitFor();
    await page.locator('[data-testid="live-charts"][data-requests="35"]').waitFor();

    // The table: every version's figures over the hour.
    const row = (v: string) => page.getByTestId('live-summary').locator(`tr[data-version="${v}"]`);
    await expect.poll(() => row('all').locator('td[data-label="Requests"]').textContent()).toBe('35');
    expect(await row('1').locator('td[data-label="Requests"]').textContent()).toBe('12');
    expect(await row('2').locator('td[data-label="Requests"]').textContent()).toBe('23');
    expect(await row('2').locator('td[data-label="Errors"]').textContent()).toBe('3 (13%)');
    expect(await row('1').locator('td[data-label="Errors"]').textContent()).toBe('0 (0%)');
    expect(await row('1').locator('td[data-label="p50"]').textContent()).toMatch(/^[\d.]+ ms$/);
    expect(await row('1').locator('td[data-label="p99"]').textContent()).toMatch(/^[\d.]+ ms$/);

    // Three uPlot charts drawn on canvases, each with a line per version beside the total, described for screen readers.
    const requestsChart = page.getByTestId('chart-requests');
    await expect.poll(() => section.locator('canvas').count()).toBe(3);
    const plot = requestsChart.getByRole('img');
    expect(await plot.getAttribute('aria-label')).toMatch(/^Requests per second, last hour, all versions: now [\d.<> ]+, over the range [\d.<> ]+\.$/);
    const legend = async (testId: string) => (await page.getByTestId(testId).locator('.u-legend .u-series .u-label').allTextContents()).filter((l) => l !== 'Time');
    expect(await legend('chart-requests')).toEqual(['All', 'v1', 'v2']);
    expect(await legend('chart-errors')).toEqual(['All', 'v1', 'v2']);
    expect(await legend('chart-latency')).toEqual(['p50', 'p99']);
    expect(Number(await plot.getAttribute('data-points'))).toBe(360);
    const latencyPoints = Number(await page.getByTestId('chart-latency').getByRole('img').getAttribute('data-points'));
    expect(latencyPoints).toBeGreaterThanOrEqual(1); // buckets with requests (the others have no latency)
    expect(latencyPoints).toBeLessThan(360);
    // Without the cursor on the chart, the legend shows each line's latest value.
    const legendValue = (label: string) => requestsChart.locator('.u-legend .u-series', { hasText: label }).locator('.u-value').textContent();
    // Chart value and legend read within one poll (the panel redraws every 5 s, and the current bucket's rate moves with time).
    let rateBefore = 0;
    let shownBefore: string | null = null;
    let updatedBefore: string | null = null;
    for (let i = 0; i < 5; i++) {
      updatedBefore = await section.getAttribute('data-updated');
      rateBefore = Number(await plot.getAttribute('data-latest'));
      shownBefore = await legendValue('All');
      if ((await section.getAttribute('data-updated')) === updatedBefore) break;
    }
    // (The latest bucket may have just begun and be 0: the hour's range shows the traffic.)
    expect(Number(/over the range (?:< )?(\d+(?:\.\d+)?)/.exec((await plot.getAttribute('aria-label')) ?? '')?.[1])).toBeGreaterThan(0);
    // Shown with the axis's precision: two significant digits below 100, whole numbers above.
    expect(Number(shownBefore)).toBe(rateBefore >= 100 ? Math.round(rateBefore) : Number(rateBefore.toPrecision(2)));

    // More traffic while the page is open: the next poll moves the numbers and the chart's latest value.
    for (let i = 0; i < 40; i++) await predict('/versions/1', one, 200);
    await page.locator('[data-testid="live-charts"][data-requests="75"]').waitFor({ timeout: POLL_WAIT_MS });
    expect(await row('1').locator('td[data-label="Requests"]').textContent()).toBe('52');
    expect(await section.getAttribute('data-updated')).not.toBe(updatedBefore);
    // The redrawn chart and its legend agree on the new latest value.
    const rateAfter = Number(await plot.getAttribute('data-latest'));
    expect(Number(await legendValue('All'))).toBe(rateAfter >= 100 ? Math.round(rateAfter) : Number(rateAfter.toPrecision(2)));

    // One version: the charts show it alone.
    await section.getByLabel('Show', { exact: true }).selectOption('1');
    await expect.poll(() => plot.getAttribute('aria-label')).toMatch(/, version 1: now /);
    expect(await legend('chart-requests')).toEqual(['v1']);
    expect(await legend('chart-latency')).toEqual(['p50', 'p99']);

    // A shorter range: 5 minutes of 10 s buckets, the same requests.
    await section.getByLabel('Range', { exact: true }).selectOption({ label: 'Last 5 minutes' });
    await expect.poll(() => page.getByTestId('chart-requests').getByRole('img').getAttribute('data-points')).toBe('30');
    expect(await page.getByTestId('live-charts').getAttribute('data-requests')).toBe('75');
    expect(await page.getByTestId('chart-requests').getByRole('img').getAttribute('aria-label')).toMatch(/^Requests per second, last 5 minutes, version 1: /);
  });

  it('fits a phone: no sideways scrolling, charts stacked', async () => {
    ({ context, page, problems } = await openPage(browser, 390, 844));
    await page.goto(`${served.url}/models/f_mnist`);
    await expect.poll(() => page.getByRole('region', { name: 'Traffic' }).locator('canvas').count()).toBe(3);
    const layout = await page.evaluate(() => {
      const boxes = [...document.querySelectorAll('.time-chart')].map((el) => el.getBoundingClientRect());
      return { scrollWidth: document.documentElement.scrollWidth, lefts: boxes.map((b) => Math.round(b.left)), widths: boxes.map((b) => b.width) };
    });
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(new Set(layout.lefts).size).toBe(1); // one column
    for (const w of layout.widths) expect(w).toBeGreaterThan(250);
  });
});
