import type { Page } from 'playwright-core';
import type { RedisFixture } from '../harness/fixture.js';
import { startChromium, type TestBrowser } from '../harness/chromium.js';
import { writeKnownState } from '../cli/known-state.js';

/** What a browser spec of the board uses: the browser (started once per file) and `open()`. */
export interface BoardInChromium {
  /** The file's Chromium (set in beforeAll). */
  readonly browser: TestBrowser;
  /** Opens the board and records every Content-Security-Policy violation the page reports (`window.__violations`). */
  open(url: string): Promise<Page>;
}

/**
 * Registers the jest hooks of a board browser spec: Chromium for the file, the CLI's known state written to the
 * file's Redis before each test, and after each test the check that the page's own script never threw.
 */
export function useBoardInChromium(fx: RedisFixture): BoardInChromium {
  let browser: TestBrowser | undefined;
  beforeAll(async () => {
    browser = await startChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    await writeKnownState(fx.redis.client());
    chromium.browser.errors.length = 0;
  });
  afterEach(() => {
    // The page's own script never throws. (Without a browser, beforeAll's error is the one to read.)
    if (browser) expect(browser.errors).toEqual([]);
  });
  const chromium: BoardInChromium = {
    get browser() {
      if (!browser) throw new Error('useBoardInChromium(): Chromium starts in beforeAll');
      return browser;
    },
    async open(url) {
      const page = await chromium.browser.page();
      // A string: it runs in the page, which the specs' TypeScript (no DOM types) does not describe.
      await page.addInitScript(`window.__violations = [];
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`);
      await page.goto(url);
      return page;
    },
  };
  return chromium;
}
