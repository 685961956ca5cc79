// What the e2e test files share (portal.test.mjs, django.test.mjs): their settings from the
// environment, one headless Chromium per file (JavaScript off in every page: the pages need
// none), a visitor's phone-sized window, and the screenshots saved as test artifacts.
import { before, after } from 'node:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** A setting scripts/test.d/70-portal-e2e.sh exports, or an error saying how to run the tests. */
export const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this through ./scripts/test.sh e2e (scripts/test.d/70-portal-e2e.sh)`);
  return value;
};

/** Launch Chromium before the file's tests and close it after; call once per file, at its top. */
export function chromiumPerFile() {
  const held = { browser: undefined };
  before(async () => {
    mkdirSync(need('SCREENSHOT_DIR'), { recursive: true });
    held.browser = await chromium.launch({ executablePath: need('CHROMIUM'), headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await held.browser?.close();
  });
  return held;
}

/** A fresh visitor in `browser`: a phone-sized window, no JavaScript, English unless told. */
export async function visitor(browser, locale = 'en-GB') {
  const context = await browser.newContext({
    javaScriptEnabled: false,
    locale,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  return { context, page };
}

/** A full-page screenshot under SCREENSHOT_DIR. */
export const shot = (page, name) => page.screenshot({ path: join(need('SCREENSHOT_DIR'), `${name}.png`), fullPage: true });
