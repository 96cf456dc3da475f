// The console's replicas panel in real headless Chromium (Debian's chromium
// through playwright-core): three `modelhost serve` processes (the built
// binary) share a real PostgreSQL registry and one models folder; the
// console of replica A lists all three, live, each serving hp v2; a pin made
// through replica B shows as v1 on every row; the model page lists them
// too; replica C killed with SIGKILL shows as gone. Any console error or
// uncaught exception in the page fails the test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../scripts/console_harness.js';
import { startServeProcess, type ServeProcess } from '../../scripts/serve_process.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../registry/postgres_helper.js';
import { copyVersion } from '../server/helpers.js';
import { STEP_MS, openPage, requireConsoleAndChromium, skipBrowser as skip } from './browser_world.js';

describePostgres('console: replicas', () => {
  let tmp: string;
  let db: TestDatabase;
  const servers: ServeProcess[] = [];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[] = [];

  const serve = async (id: string) => {
    const s = await startServeProcess(
      [
        `--models_dir=${path.join(tmp, 'models')}`,
        `--registry_url=${db.url}`,
        '--file_system_poll_wait_seconds=0.2',
        `--replica_id=${id}`,
        '--replica_heartbeat_ms=250',
        '--replica_lapse_ms=1500',
        '--enable_model_warmup=false',
        '--inference_threads=1',
      ],
      { cwd: tmp },
    );
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    if (skip) return;
    requireConsoleAndChromium();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-console-replicas-'));
    db = await createTestDatabase();
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'models/hp/1'));
    copyVersion('saved_model_half_plus_three/00000123', path.join(tmp, 'models/hp/2'));
    byId.set('replica-a', await serve('replica-a'));
    for (const [id, s] of await Promise.all(['replica-b', 'replica-c'].map(async (id) => [id, await serve(id)] as const))) byId.set(id, s);
    browser = await launchChromium();
    ({ context, page, problems } = await openPage(browser, 1280, 900));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    for (const s of servers) await s.stop();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const byId = new Map<string, ServeProcess>();
  const [a, b, c] = ['replica-a', 'replica-b', 'replica-c'].map((id) => () => byId.get(id)!);
  const row = (id: string) => page.locator(`table.replicas tr[data-replica="${id}"]`);
  /** What each row shows: id, status, and the version serving hp. */
  const rows = async () =>
    page.locator('table.replicas tbody tr').evaluateAll((trs) =>
      trs
        .map((tr) => {
          const hp = tr.querySelector('li[data-model="hp"] [data-testid="replica-serving"]');
          return `${tr.getAttribute('data-replica')} ${tr.getAttribute('data-status')} ${hp?.textContent?.trim() ?? '-'}`;
        })
        .sort(),
    );

  it.skipIf(skip)('lists every live replica with the version it serves, and follows a pin made through another replica', async () => {
    await page.goto(`${a().url}/`);
    await page.getByRole('heading', { name: 'Replicas', level: 2 }).waitFor();
    await expect.poll(rows, { timeout: STEP_MS }).toEqual(['replica-a live v2', 'replica-b live v2', 'replica-c live v2']);
    await expect(row('replica-a').textContent()).resolves.toContain('(this server)');
    await expect(row('replica-b').textContent()).resolves.toContain(new URL(b().url).host);
    await expect(page.locator('#replicas-heading + p').textContent()).resolves.toContain('3 live replicas share this registry');

    const pinned = await fetch(`${b().url}/api/v1/models/hp/pin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"version": 1}' });
    expect(pinned.status).toBe(200);
    // The panel refreshes every 2 s; the replicas record the switch within ~250 ms.
    await expect.poll(rows, { timeout: 6000 }).toEqual(['replica-a live v1', 'replica-b live v1', 'replica-c live v1']);
    // v2 stays loaded (the previous version) and is shown as such.
    await expect(row('replica-c').textContent()).resolves.toMatch(/also v2 loaded/);
    expect(problems).toEqual([]);
  });

  it.skipIf(skip)("shows the model's replicas on its page, and a replica killed with SIGKILL as gone", async () => {
    await page.goto(`${a().url}/models/hp`);
    await page.getByRole('heading', { name: 'Replicas', level: 2 }).waitFor();
    await expect.poll(rows, { timeout: STEP_MS }).toEqual(['replica-a live v1', 'replica-b live v1', 'replica-c live v1']);
    c().proc.kill('SIGKILL');
    await expect.poll(rows, { timeout: 8000 }).toEqual(['replica-a live v1', 'replica-b live v1', 'replica-c gone -']);
    await expect(row('replica-c').getByText('GONE', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.locator('#replicas-heading + p').textContent()).resolves.toContain('2 live replicas share this registry, 1 gone');
    expect(problems).toEqual([]);
  });
});
