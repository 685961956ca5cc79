// sspr.contrib.django in headless Chromium, JavaScript off: a Django project made by `django-admin
// startproject` with the README's lines (scripts/test.d/70-portal-e2e.sh builds it and sets
// DJANGO_URL, DJANGO_LOG, CHROMIUM, SCREENSHOT_DIR). Jane's contacts were imported with the
// `sspr_import_contacts` management command; her PIN is read from the development outbox page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromiumPerFile, need, shot, visitor } from './browser.mjs';

const SITE = need('DJANGO_URL');
const chromium = chromiumPerFile();

test('a Django site made from the README resets a password in Chromium', async () => {
  const { context, page } = await visitor(chromium.browser);
  try {
    await page.goto(`${SITE}/password/`);
    await shot(page, '40-django-reset-start');
    await page.fill('#login', 'jane.doe@example.org');
    await page.click('button');
    assert.match(await page.locator('main').innerText(), /E-mail to j\*\*\*@h\*\*\*\.example/);
    await shot(page, '41-django-methods');
    await page.click('button');
    assert.match(await page.locator('h1').innerText(), /Enter your code/);

    const mail = await context.newPage();
    await mail.goto(`${SITE}/password/dev/outbox/?to=${encodeURIComponent('jane@home.example')}`);
    const bodies = await mail.locator('article.message pre.body').allInnerTexts();
    const pin = bodies.map((b) => b.match(/Your code is (\d+)/)?.[1]).find(Boolean);
    assert.ok(pin, `a PIN in the outbox: ${bodies.join(' | ')}`);
    await mail.close();

    await page.fill('#pin', pin);
    await shot(page, '42-django-pin');
    await page.click('button');
    assert.match(await page.locator('h1').innerText(), /Code accepted/);
    await page.click('button[value=temporary]');
    const password = (await page.locator('#temporary-password').innerText()).trim();
    assert.equal(password.length, 16);
    await shot(page, '43-django-temporary-password');

    // Nothing secret reached the development server's log (it logs every request line).
    const log = readFileSync(need('DJANGO_LOG'), 'utf8');
    assert.ok(log.includes('POST /password/complete/'), 'the log is the server\'s request log');
    for (const secret of [pin, password]) assert.ok(!log.includes(secret), 'no PIN or password in the log');
  } finally {
    await context.close();
  }
});
