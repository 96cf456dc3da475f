/**
 * `npm run screenshots`: the README's pictures of the web console, taken from
 * a real server (a temporary copy of ./models and a temporary registry) in
 * headless Chromium:
 *
 *   docs/console-overview-desktop.png   docs/console-model-desktop.png   (1280 px wide)
 *   docs/console-overview-mobile.png    docs/console-model-mobile.png    (390 px wide)
 *   docs/console-charts-desktop.png     (the model page's live traffic charts)
 *   docs/console-rollout-desktop.png    (the model page's rollout panel: a canary of f_mnist v1)
 *   docs/console-version-desktop.png    (a version's metadata and its signature diff with the serving version)
 *
 * Before shooting it gives the registry some history through the public API:
 * a second model (half_plus_two, two uploads, the first pinned, a third
 * version that fails to load), a label, and some predict traffic, then a
 * minute of varying traffic to both f_mnist versions (some refused) so the
 * charts have a few 10 s buckets to show, while a canary rollout sends 30%
 * of f_mnist's requests naming no version to v1.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { heldOutImages, imagePng, imageB64 } from '../examples/f_mnist/data.js';
import { HALF_PLUS_TWO, ROOT, launchChromium, startConsoleServer, watchPage } from './console_harness.js';

const DOCS = path.join(ROOT, 'docs');

function filesForm(dir: string): FormData {
  const form = new FormData();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (fs.statSync(path.join(dir, child)).isDirectory()) walk(child);
      else form.append('files', new Blob([fs.readFileSync(path.join(dir, child))]), child);
    }
  };
  walk('');
  return form;
}

async function call(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, headers: { 'X-Modelhost-Actor': 'cli:docs', ...(init.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function seed(base: string, modelsDir: string): Promise<void> {
  const api = `${base}/api/v1/models`;
  await call(`${api}/half_plus_two/versions`, { method: 'POST', body: filesForm(HALF_PLUS_TWO) });
  await call(`${api}/half_plus_two/versions`, { method: 'POST', body: filesForm(HALF_PLUS_TWO) });
  await call(`${api}/half_plus_two/pin`, { method: 'POST', body: JSON.stringify({ version: 1 }) });
  await call(`${api}/f_mnist/labels/stable`, { method: 'PUT', body: JSON.stringify({ version: 2 }) });
  await call(`${api}/f_mnist/labels/candidate`, { method: 'PUT', body: JSON.stringify({ version: 1 }) });
  // A version that cannot load: its error shows on the overview.
  fs.cpSync(path.resolve(ROOT, '../shared/fixtures/tf-serving/bad_half_plus_two/00000123'), path.join(modelsDir, 'half_plus_two', '3'), { recursive: true });
  // Traffic, so requests per second is not zero.
  const images = heldOutImages();
  const instances = Array.from({ length: 4 }, (_, i) => imageB64(images, i));
  for (let i = 0; i < 60; i++) {
    await call(`${base}/v1/models/f_mnist:predict`, { method: 'POST', body: JSON.stringify({ instances }) });
    if (i % 3 === 0) await call(`${base}/v1/models/half_plus_two:predict`, { method: 'POST', body: '{"instances": [1.0, 2.0]}' });
  }
  for (let i = 0; i < 100; i++) {
    const m = (await call(`${api}/half_plus_two`)) as { versions: { version: number; state: string }[] };
    if (m.versions.some((v) => v.version === 3 && v.state === 'FAILED')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('half_plus_two version 3 did not fail to load in time');
}

/** About `seconds` of f_mnist traffic whose rate rises and falls: the serving v2, some v1, and a few refused requests. */
async function trafficOverTime(base: string, seconds: number): Promise<void> {
  const images = heldOutImages();
  const body = JSON.stringify({ instances: [imageB64(images, 0), imageB64(images, 1)] });
  let id = 0;
  const send = (path: string, b: string) =>
    fetch(`${base}/v1/models/f_mnist${path}:predict`, { method: 'POST', headers: { 'X-Request-Id': `docs-${id++}` }, body: b }).then((r) => r.text());
  const end = Date.now() + seconds * 1000;
  for (let tick = 0; Date.now() < end; tick++) {
    const t = tick / 10;
    const burst = 2 + Math.round(3 * (1 + Math.sin(t / 2.2)));
    const sends: Promise<string>[] = [];
    for (let i = 0; i < burst; i++) sends.push(send('', body));
    if (tick % 2 === 0) sends.push(send('/versions/1', body));
    if (tick % 9 === 0) sends.push(send('/versions/2', '{"instances": [1.0]}'));
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shoot(browser: Browser, base: string, width: number, suffix: string, png: Buffer): Promise<void> {
  const mobile = width < 600;
  const context = await browser.newContext({
    viewport: { width, height: mobile ? 844 : 900 },
    deviceScaleFactor: mobile ? 2 : 1,
    isMobile: mobile,
    hasTouch: mobile,
  });
  const page: Page = await context.newPage();
  const problems = watchPage(page);
  try {
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'f_mnist' }).waitFor();
    await page.getByText('v3 failed:').waitFor();
    await page.screenshot({ path: path.join(DOCS, `console-overview-${suffix}.png`), fullPage: true });

    if (!mobile) {
      await page.getByRole('link', { name: 'f_mnist' }).click();
      const charts = page.getByTestId('live-charts');
      await charts.locator('canvas').nth(2).waitFor();
      await charts.locator('tr[data-version="1"]').waitFor();
      // The minute of traffic is a sliver of an hour: show the last 5 minutes.
      await charts.getByLabel('Range', { exact: true }).selectOption({ label: 'Last 5 minutes' });
      await charts.locator('[data-testid="chart-requests"] [data-points="30"]').waitFor();
      await charts.locator('canvas').nth(2).waitFor();
      await charts.screenshot({ path: path.join(DOCS, 'console-charts-desktop.png') });
      const rollout = page.getByTestId('rollout');
      await rollout.locator('tr[data-side="candidate"] td[data-label="Requests"]').waitFor();
      await rollout.screenshot({ path: path.join(DOCS, 'console-rollout-desktop.png') });
      await page.goto(`${base}/`);
      await page.getByRole('link', { name: 'f_mnist' }).waitFor();
    }

    await page.getByRole('link', { name: 'f_mnist' }).click();
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    await page.getByTestId('try-image-input').setInputFiles({ name: 'ankle-boot.png', mimeType: 'image/png', buffer: png });
    await page.getByTestId('scores').waitFor();
    await page.getByRole('heading', { name: 'f_mnist', level: 1 }).scrollIntoViewIfNeeded();
    const file = path.join(DOCS, `console-model-${suffix}.png`);
    if (mobile) {
      // The whole page is very tall on a phone: down to the end of "Try it" (summary, versions, a classified image).
      const scores = await page.getByTestId('scores').boundingBox();
      const height = Math.ceil((scores ? scores.y + scores.height : 2400) + 24);
      await page.screenshot({ path: file, fullPage: true, clip: { x: 0, y: 0, width, height } });
    } else {
      await page.screenshot({ path: file, fullPage: true });
    }
    if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  } finally {
    await context.close();
  }
}

/** Uploads half_plus_three as half_plus_two version 4 with metadata (after the other pictures), and shoots its page. */
async function shootVersionPage(browser: Browser, base: string): Promise<void> {
  const form = filesForm(path.resolve(ROOT, '../shared/fixtures/tf-serving/saved_model_half_plus_three/00000123'));
  form.append('description', 'y = 0.5x + 3, a TF2 export: scalar input and a regress signature');
  form.append('tag', 'stage=candidate');
  form.append('tag', 'owner=serving-team');
  form.append('metric', 'mae=0.0031');
  form.append('metric', 'val/mae=0.0042');
  form.append('source', 'ana@ws-12, git@github.com:org/half_plus.git 3f2a1c9, run 2024-05-01-17');
  await call(`${base}/api/v1/models/half_plus_two/versions`, { method: 'POST', body: form });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(page);
  try {
    await page.goto(`${base}/models/half_plus_two/versions/4`);
    await page.getByTestId('breaking-changes').waitFor();
    await page.screenshot({ path: path.join(DOCS, 'console-version-desktop.png'), fullPage: true });
    if (problems.length > 0) throw new Error(`the page reported errors:\n${problems.join('\n')}`);
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const images = heldOutImages();
  const png = Buffer.from(imagePng(images, 0)); // an ankle boot both versions classify correctly
  const served = await startConsoleServer();
  let browser: Browser | undefined;
  try {
    await seed(served.url, served.modelsDir);
    await call(`${served.url}/api/v1/models/f_mnist/rollout`, {
      method: 'POST',
      body: JSON.stringify({ version: 1, percent: 30, limits: { max_error_rate: 0.05, min_requests: 50 }, window_seconds: 120 }),
    });
    await trafficOverTime(served.url, 60);
    browser = await launchChromium();
    await shoot(browser, served.url, 1280, 'desktop', png);
    await shoot(browser, served.url, 390, 'mobile', png);
    await shootVersionPage(browser, served.url);
    console.log(`wrote docs/console-{overview,model}-{desktop,mobile}.png, docs/console-charts-desktop.png, docs/console-rollout-desktop.png and docs/console-version-desktop.png`);
  } finally {
    await browser?.close();
    await served.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
