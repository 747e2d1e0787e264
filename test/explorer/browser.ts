/**
 * A real browser for the explorer tests: Debian's headless Chromium (`apt-get install chromium`; .ci/run installs it)
 * driven by playwright-core over CDP, with a fresh profile and nothing that reaches the network by itself.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own storage) and page; phone width when asked. */
  page(options?: { phone?: boolean }): Promise<{ context: BrowserContext; page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch a fresh temporary profile (its own --user-data-dir), removed at close.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async page(options = {}) {
      const context = await browser.newContext(
        options.phone ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } : { viewport: { width: 1280, height: 900 } },
      );
      const page = await context.newPage();
      const errors: string[] = [];
      // CSP violations and script errors are test failures: the page must run under its own policy.
      // (A refused API call also logs "Failed to load resource": that is the page doing its job, not an error.)
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      return { context, page, errors };
    },
    async close() {
      await browser.close();
    },
  };
}
