// Shared setup of the browser tests (test/web/): the checks that the console
// is built and Chromium is installed, the console server and Chromium started
// together, and a page opened in a fresh context whose console errors and
// uncaught exceptions are collected.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOT, chromiumPath, launchChromium, startConsoleServer, watchPage, type ConsoleServer } from '../../scripts/console_harness.js';

/** How long one step (a click, a wait for an element) may take. */
export const STEP_MS = 15_000;
/** MODELHOST_SKIP_BROWSER_TESTS=1 skips the browser tests on a machine without Chromium. */
export const skipBrowser = process.env.MODELHOST_SKIP_BROWSER_TESTS === '1';

/** Throws, saying what to do, when the console is not built or Chromium is missing. */
export function requireConsoleAndChromium(): void {
  if (!fs.existsSync(path.join(ROOT, 'dist/web/index.html'))) throw new Error('The console is not built: run `npm run build` first.');
  if (!chromiumPath()) throw new Error('Chromium is missing: apt-get install -y chromium (or set MODELHOST_SKIP_BROWSER_TESTS=1).');
}

/**
 * requireConsoleAndChromium(), then the console server and Chromium started
 * side by side; if one fails to start, the other is closed before throwing.
 */
export async function startConsoleAndChromium(options: Parameters<typeof startConsoleServer>[0] = {}): Promise<{ served: ConsoleServer; browser: Browser }> {
  requireConsoleAndChromium();
  // allSettled, not all: if one start fails, the other must still be closed.
  const [s, b] = await Promise.allSettled([startConsoleServer(options), launchChromium()]);
  if (s.status === 'fulfilled' && b.status === 'fulfilled') return { served: s.value, browser: b.value };
  if (b.status === 'fulfilled') await b.value.close();
  if (s.status === 'fulfilled') await s.value.stop();
  throw s.status === 'rejected' ? s.reason : (b as PromiseRejectedResult).reason;
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** The page's console errors and uncaught exceptions (watchPage). */
  problems: string[];
}

/** A new `width`×`height` context (STEP_MS as its default timeout), its page, and the page's problems. */
export async function openPage(browser: Browser, width: number, height: number): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width, height } });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  return { context, page, problems: watchPage(page) };
}
