// End-to-end tests of the reset portal in headless Chromium, with JavaScript switched off in
// the pages (the portal needs none). Run by scripts/test.d/70-portal-e2e.sh, which starts the
// portal binary on a free port and sets:
//   PORTAL_URL       where the portal listens (http://127.0.0.1:PORT)
//   PORTAL_LOG       the file the portal's output goes to (checked for secrets at the end)
//   PORTAL_AGED_URL  a second portal with reconfirm_after_days = 30 where jane's contacts are 40 days old
//   PORTAL_GRAPH_URL a third portal on a Microsoft Graph directory and contact store: the stand-in
//   PORTAL_GRAPH_LOG its output
//   GRAPH_STANDIN_URL the Graph/Entra stand-in process (sspr-graph-standin), also its OpenID provider
//   CHROMIUM         the Chromium binary (Debian's `chromium`)
//   SCREENSHOT_DIR   where a screenshot of each page is saved
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromiumPerFile, need, shot, visitor as visitorIn } from './browser.mjs';

const URL = need('PORTAL_URL');
const PASSWORD = 'Demo-Passw0rd!';
/** Every PIN and password the tests saw: none may appear in the portal's log. */
const secrets = [];

const chromium = chromiumPerFile();
/** A fresh visitor: a phone-sized window, no JavaScript, English unless told. */
const visitor = (locale) => visitorIn(chromium.browser, locale);

/** The text of the page's alert, or null. */
async function alertText(page) {
  const alert = page.locator('[role=alert]');
  return (await alert.count()) ? (await alert.first().innerText()).trim() : null;
}

/** The last PIN mailed or texted to `address`, read from the outbox page as a user reads mail. */
async function pinFromOutbox(page, address, screenshot, base = URL) {
  await page.goto(`${base}/outbox?to=${encodeURIComponent(address)}`);
  if (screenshot) await shot(page, screenshot);
  const bodies = await page.locator('article.message pre.body').allInnerTexts();
  for (const body of bodies) {
    const m = body.match(/(?:Your code is|Ihr Code lautet) (\d+)/);
    if (m) {
      secrets.push(m[1]);
      return m[1];
    }
  }
  throw new Error(`no PIN for ${address} in the outbox`);
}

/** Start a reset for `login` and send a PIN by the first method offered. */
async function resetToPin(page, login, shots = {}) {
  await page.goto(`${URL}/passwordreset`);
  if (shots.login) await shot(page, shots.login);
  await page.fill('#login', login);
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=method]');
  if (shots.methods) await shot(page, shots.methods);
  await page.locator('input[name=method]').first().check();
  await page.click('form[action="/passwordreset/send"] button[type=submit]');
  await page.waitForSelector('#pin');
  if (shots.pin) await shot(page, shots.pin);
}

async function signIn(page, path, login, password) {
  await page.goto(`${URL}${path}`);
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
}

test('every page carries the security headers and loads without JavaScript', async () => {
  const { context, page } = await visitor();
  for (const path of ['/', '/passwordreset', '/passwordchange', '/passwordnotification', '/admin', '/outbox']) {
    const response = await page.goto(`${URL}${path}`);
    assert.equal(response.status(), 200, path);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /default-src 'none'/, path);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/, path);
    assert.equal(headers['x-frame-options'], 'DENY', path);
    assert.equal(headers['referrer-policy'], 'no-referrer', path);
    assert.equal(headers['x-content-type-options'], 'nosniff', path);
    assert.equal(await page.locator('script').count(), 0, path);
  }
  await page.goto(`${URL}/`);
  await shot(page, '01-index');
  // Looking costs the server nothing: no session yet, only the signed CSRF cookie whose
  // token the forms carry.
  let cookies = await context.cookies();
  assert.equal(cookies.find((c) => c.name === 'sspr_session'), undefined, 'no session for a visitor who only looks');
  const csrf = cookies.find((c) => c.name === 'sspr_csrf');
  assert.ok(csrf, 'a CSRF cookie');
  assert.equal(csrf.httpOnly, true);
  assert.equal(csrf.sameSite, 'Strict');
  await page.goto(`${URL}/passwordreset`);
  assert.equal(await page.locator('input[name=csrf]').first().getAttribute('value'), csrf.value);
  // The first form that leaves state on the server makes the session.
  await page.fill('#login', 'jane.doe@example.org');
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=method]');
  cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'sspr_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  await context.close();
});

// Before max registers below: now he is the one enabled user without contacts.
test('the admin reads the registration report and reminds users without contacts, once', async () => {
  const { context, page } = await visitor();
  await signIn(page, '/admin', 'helpdesk@example.org', PASSWORD);
  await page.waitForSelector('#report-link');
  await page.click('#report-link');
  await page.waitForSelector('#ous');
  await page.fill('#ous', 'ou=staff,dc=example,dc=org');
  await page.click('#show-report');
  await page.waitForSelector('#report-counts');
  const users = await page.locator('#report-users').innerText();
  assert.match(users, /max\.mustermann@example\.org/);
  assert.match(users, /no contacts/);
  assert.doesNotMatch(users, /carol\.contractor/, 'outside the OU');
  assert.doesNotMatch(await page.locator('main').innerText(), /jane@private\.example/, 'masks only');
  await shot(page, '19-admin-report');
  await page.click('#remind');
  await page.waitForSelector('[role=status]');
  assert.match(await page.locator('[role=status]').innerText(), /Reminders sent: 1\./);
  await shot(page, '20-admin-reminders-sent');
  await page.click('#remind');
  await page.waitForSelector('[role=status]');
  assert.match(await page.locator('[role=status]').innerText(), /Reminders sent: 0\. Already reminded: 1/);
  // The reminder reached Max's directory mailbox, linking to this portal's registration page.
  await page.goto(`${URL}/outbox?to=${encodeURIComponent('max.mustermann@example.org')}`);
  const bodies = await page.locator('article.message pre.body').allInnerTexts();
  assert.equal(bodies.length, 1, 'one reminder, however often the button is pressed');
  assert.ok(bodies[0].includes(`${URL}/passwordnotification`), bodies[0]);
  await shot(page, '21-reminder-mail');
  await context.close();
});

test('a user registers contacts, resets with a PIN from the outbox and sees the temporary password', async () => {
  // Register: sign in with the directory password, save an e-mail address and a mobile.
  const user = await visitor();
  await user.page.goto(`${URL}/passwordnotification`);
  await shot(user.page, '02-notification-signin');
  await signIn(user.page, '/passwordnotification', 'max.mustermann@example.org', PASSWORD);
  await user.page.waitForSelector('#email');
  assert.match(await user.page.locator('main').innerText(), /Signed in as Max Mustermann/);
  await user.page.fill('#email', 'max@home.example');
  await user.page.fill('#phone', '+49 151 23456789');
  await user.page.click('form[action="/passwordnotification/save"] button[type=submit]');
  // Each new contact proves itself with the code sent to it: the address, then the phone.
  await user.page.waitForSelector('#code');
  assert.match(await user.page.locator('main').innerText(), /We sent a code to m\*\*\*@h\*\*\*\.example/);
  assert.equal(await user.page.inputValue('#email'), '', 'not saved before its code');
  await shot(user.page, '03a-notification-code');
  for (const address of ['max@home.example', '+4915123456789']) {
    const inbox = await user.context.newPage();
    const code = await pinFromOutbox(inbox, address);
    await inbox.close();
    await user.page.fill('#code', code);
    await user.page.click('form[action="/passwordnotification/confirm"] button[type=submit]');
    await user.page.waitForSelector('[role=status]');
  }
  assert.match(await user.page.locator('[role=status]').innerText(), /Saved/);
  assert.equal(await user.page.inputValue('#email'), 'max@home.example');
  assert.equal(await user.page.inputValue('#phone'), '+4915123456789');
  await shot(user.page, '03-notification-saved');
  await user.context.close();

  // Reset, anonymously, on another device.
  const { context, page } = await visitor();
  await resetToPin(page, 'max.mustermann@example.org', {
    login: '04-reset-login',
    methods: '05-reset-methods',
    pin: '06-reset-pin',
  });
  assert.match(await page.locator('main').innerText(), /A code was sent to m\*\*\*@h\*\*\*\.example/);
  assert.match(await page.locator('#pin-status').innerText(), /Valid until \d\d:\d\d \(UTC\)\. 5 attempts left\./);

  const mail = await context.newPage();
  const pin = await pinFromOutbox(mail, 'max@home.example', '07-outbox');
  await mail.close();
  await page.fill('#pin', pin);
  await page.click('form[action="/passwordreset/verify"] button[type=submit]');
  await page.waitForSelector('input[name=mode]');
  await shot(page, '08-reset-modes');
  assert.equal(await page.locator('input[name=mode]:checked').getAttribute('value'), 'temporary');
  await page.click('form[action="/passwordreset/complete"] button[type=submit]');
  await page.waitForSelector('#temporary-password');
  const temporary = (await page.locator('#temporary-password').innerText()).trim();
  secrets.push(temporary);
  assert.equal(temporary.length, 16);
  assert.match(await page.locator('main').innerText(), /must change it when you next sign in/);
  await shot(page, '09-reset-temporary-password');

  // Shown once: going back shows the start, not the password.
  await page.goto(`${URL}/passwordreset`);
  assert.ok(!(await page.content()).includes(temporary));
  await context.close();

  // The temporary password signs in and leads to the change page: it says the password must
  // be changed, shows the rules before anything is typed, and has the login filled in.
  const again = await visitor();
  await signIn(again.page, '/passwordnotification', 'max.mustermann@example.org', temporary);
  await again.page.waitForSelector('#password-rules');
  assert.ok(again.page.url().endsWith('/passwordchange'), again.page.url());
  assert.match(await again.page.locator('main').innerText(), /Your password must be changed/);
  assert.match(await again.page.locator('#password-rules').innerText(), /be at least 8 characters long/);
  assert.equal(await again.page.inputValue('#login'), 'max.mustermann@example.org');
  await shot(again.page, '10-change-must-change');
  const chosen = 'Fresh-Meadow-41';
  secrets.push(chosen);
  await again.page.fill('#current_password', temporary);
  await again.page.fill('#new_password', chosen);
  await again.page.fill('#new_password_again', chosen);
  await again.page.click('form[action="/passwordchange"] button[type=submit]');
  await again.page.waitForSelector('[role=status]');
  assert.match(await again.page.locator('[role=status]').innerText(), /Your password was changed/);
  assert.equal(await again.page.locator('#must-change').count(), 0);
  await shot(again.page, '10b-change-done');
  await again.context.close();

  // The new password signs in to the contact page, with nothing left to change; the
  // temporary one no longer does.
  const later = await visitor();
  await signIn(later.page, '/passwordnotification', 'max.mustermann@example.org', chosen);
  await later.page.waitForSelector('#email');
  assert.doesNotMatch(await later.page.locator('main').innerText(), /must be changed/);
  await later.context.close();
  const stale = await visitor();
  await signIn(stale.page, '/passwordnotification', 'max.mustermann@example.org', temporary);
  await stale.page.waitForSelector('[role=alert]');
  assert.match(await alertText(stale.page), /wrong/);
  await stale.context.close();
});

test('the change page: a wrong current password reads like an unknown login, a reused password is named', async () => {
  const { context, page } = await visitor();
  const change = async (login, current, next) => {
    await page.goto(`${URL}/passwordchange`);
    await page.fill('#login', login);
    await page.fill('#current_password', current);
    await page.fill('#new_password', next);
    await page.fill('#new_password_again', next);
    await page.click('form[action="/passwordchange"] button[type=submit]');
    await page.waitForSelector('[role=alert]');
    return alertText(page);
  };
  await page.goto(`${URL}/passwordchange`);
  await shot(page, '10c-change-rules');
  const wrong = await change('jane.doe@example.org', 'Not-Her-Passw0rd', 'Fresh-Meadow-42');
  const unknown = await change('nobody@example.org', PASSWORD, 'Fresh-Meadow-42');
  assert.equal(wrong, unknown);
  const reused = await change('jane.doe@example.org', PASSWORD, PASSWORD);
  assert.match(reused, /You used this password before/);
  await shot(page, '10d-change-refused');
  await context.close();
});

test('a wrong PIN shows the attempts left', async () => {
  const { context, page } = await visitor();
  await resetToPin(page, 'jane.doe@example.org');
  await page.fill('#pin', '00000000');
  await page.click('form[action="/passwordreset/verify"] button[type=submit]');
  await page.waitForSelector('[role=alert]');
  assert.equal(await alertText(page), 'The code is wrong. 4 attempts left.');
  assert.match(await page.locator('#pin-status').innerText(), /4 attempts left/);
  await shot(page, '11-reset-wrong-pin');
  await context.close();
});

test('an unknown login looks like a known one', async () => {
  // The page after each step, with the session's token, the masked destinations and the
  // list of methods blanked (a decoy offers e-mail, SMS or both, as real users have them;
  // each offered method is checked to look like a real one).
  const masks = /^(E-mail to .\*\*\*@.\*\*\*\.[a-z]+|Text message to \+\d{1,3} \*+ \d\d)$/;
  const normalise = (html) =>
    html
      .replace(/value="[0-9a-f]{64,}"/g, 'value="TOKEN"')
      .replace(/<label><input type="radio" name="method".*?<\/label>/gs, 'METHOD')
      .replace(/(METHOD)+/g, 'METHODS')
      .replace(/(E-mail to|Text message to|A code was sent to) [^<]+/g, '$1 MASKED')
      .replace(/Valid until \d\d:\d\d \(UTC\)/g, 'Valid until HH:MM (UTC)');
  const steps = async (login, prefix) => {
    const { context, page } = await visitor();
    await page.goto(`${URL}/passwordreset`);
    await page.fill('#login', login);
    await page.click('button[type=submit]');
    await page.waitForSelector('input[name=method]');
    const methods = normalise(await page.locator('main').innerHTML());
    for (const label of await page.locator('fieldset label').allInnerTexts()) {
      assert.match(label.trim(), masks, `${login}: a method that looks real`);
    }
    if (prefix) await shot(page, `${prefix}-methods`);
    await page.locator('input[name=method]').first().check();
    await page.click('form[action="/passwordreset/send"] button[type=submit]');
    await page.waitForSelector('#pin');
    const pin = normalise(await page.locator('main').innerHTML());
    if (prefix) await shot(page, `${prefix}-pin`);
    await page.fill('#pin', '12345678');
    await page.click('form[action="/passwordreset/verify"] button[type=submit]');
    await page.waitForSelector('[role=alert]');
    const wrong = normalise(await page.locator('main').innerHTML());
    await context.close();
    return { methods, pin, wrong };
  };
  const known = await steps('jane.doe@example.org');
  const unknown = await steps('no.such.user@example.org', '12-reset-unknown');
  assert.equal(unknown.methods, known.methods);
  assert.equal(unknown.pin, known.pin);
  assert.equal(unknown.wrong, known.wrong);
});

test('the admin enables a user, who can then reset', async () => {
  const { context, page } = await visitor();
  await page.goto(`${URL}/admin`);
  await shot(page, '13-admin-signin');
  await signIn(page, '/admin', 'helpdesk@example.org', PASSWORD);
  await page.waitForSelector('#q');
  await page.fill('#q', 'bob');
  await page.click('form[action="/admin"] button[type=submit]');
  await page.waitForSelector('#users');
  assert.match(await page.locator('#users').innerText(), /bob\.builder@example\.org/);
  assert.match(await page.locator('#users').innerText(), /not enabled/);
  await shot(page, '14-admin-search');
  await page.click('a[href^="/admin/user?login=bob.builder"]');
  await page.waitForSelector('#toggle-enabled');
  assert.equal((await page.locator('#toggle-enabled').innerText()).trim(), 'Enable SSPR');
  await shot(page, '15-admin-user');
  await page.click('#toggle-enabled');
  await page.waitForSelector('[role=status]');
  assert.equal((await page.locator('#toggle-enabled').innerText()).trim(), 'Disable SSPR');
  await shot(page, '16-admin-enabled');
  await page.goto(`${URL}/admin`);
  assert.match(await page.locator('#audit').innerText(), /enabled_changed/);
  await shot(page, '17-admin-audit');
  await context.close();

  // Bob can reset now: his PIN arrives.
  const bob = await visitor();
  await resetToPin(bob.page, 'bob.builder@example.org');
  assert.match(await bob.page.locator('main').innerText(), /b\*\*\*@h\*\*\*\.example/);
  const mail = await bob.context.newPage();
  await pinFromOutbox(mail, 'bob@home.example');
  await bob.context.close();
});

test('the helpdesk issues a recovery code, and the user resets with it', async () => {
  // Max calls the helpdesk (say his phone is lost): the helpdesk shows him a one-time code.
  const admin = await visitor();
  await signIn(admin.page, '/admin', 'helpdesk@example.org', PASSWORD);
  await admin.page.waitForSelector('#q');
  await admin.page.goto(`${URL}/admin/user?login=${encodeURIComponent('max.mustermann@example.org')}`);
  await admin.page.waitForSelector('#issue-recovery');
  assert.ok(await admin.page.locator('input[name=deliver][value=show]').isChecked(), 'shown by default');
  await shot(admin.page, '22-admin-recovery-form');
  await admin.page.click('#issue-recovery');
  await admin.page.waitForSelector('#recovery-code');
  const code = (await admin.page.locator('#recovery-code').innerText()).trim();
  assert.match(code, /^\d{10}$/);
  secrets.push(code);
  await shot(admin.page, '23-admin-recovery-code');
  await admin.context.close();

  // Max: "I have a code from the helpdesk" under the login form, then the completion step.
  const max = await visitor();
  await max.page.goto(`${URL}/passwordreset`);
  await max.page.click('#helpdesk-link');
  await max.page.waitForSelector('#code');
  await max.page.fill('#login', 'max.mustermann@example.org');
  await max.page.fill('#code', '0000000000');
  await max.page.click('#redeem');
  await max.page.waitForSelector('[role=alert]');
  // One wording for every refusal, and not "0 attempts left": the code is still good (below).
  assert.equal(
    await alertText(max.page),
    'The code is wrong or no longer valid. Check the user name and the code; if it still fails, ask the helpdesk for a new code.',
  );
  await max.page.fill('#login', 'max.mustermann@example.org');
  await max.page.fill('#code', code);
  await shot(max.page, '24-reset-helpdesk-code');
  await max.page.click('#redeem');
  await max.page.waitForSelector('input[name=mode]');
  await shot(max.page, '25-reset-helpdesk-verified');
  await max.page.click('form[action="/passwordreset/complete"] button[type=submit]');
  await max.page.waitForSelector('#temporary-password');
  secrets.push((await max.page.locator('#temporary-password').innerText()).trim());
  await shot(max.page, '26-reset-helpdesk-done');
  await max.context.close();
});

test('a user whose contacts were confirmed long ago is asked whether they are still right', async () => {
  // The second portal (reconfirm_after_days = 30), where jane's contacts are 40 days old.
  const AGED = need('PORTAL_AGED_URL');
  const { context, page } = await visitor();
  await page.goto(`${AGED}/passwordnotification`);
  await page.fill('#login', 'jane.doe@example.org');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#reconfirm');
  assert.match(await page.locator('#reconfirm').innerText(), /Are they still right\?/);
  assert.equal(await page.inputValue('#email'), 'jane@private.example');
  await shot(page, '27-notification-reconfirm');
  await page.click('#reconfirm button[type=submit]');
  await page.waitForSelector('#email');
  assert.equal(await page.locator('#reconfirm').count(), 0, 'confirmed: not asked again');
  assert.equal(await page.inputValue('#email'), 'jane@private.example', 'the contacts stay as they were');
  await shot(page, '28-notification-reconfirmed');
  await context.close();
});

test('the admin reads the last 30 days of the audit trail as figures and charts', async () => {
  // The second portal keeps its audit trail in SQLite ([audit] kind = "sqlite"): /admin/reports.
  const AGED = need('PORTAL_AGED_URL');
  const { context, page } = await visitor();
  // An unknown login's reset begun there: a decoy answer for the figures.
  await page.goto(`${AGED}/passwordreset`);
  await page.fill('#login', 'nobody@example.org');
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=method]');
  await page.goto(`${AGED}/admin`);
  await page.fill('#login', 'helpdesk@example.org');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('#reports-link');
  await page.click('#reports-link');
  await page.waitForSelector('#report-figures');
  assert.equal(await page.locator('figure.chart > svg').count(), 3, 'three charts, drawn on the server');
  assert.equal(await page.locator('script').count(), 0, 'no script');
  const cells = await page.locator('#report-figures td').allInnerTexts();
  assert.ok(Number(cells[5]) >= 1, `the demo's registrations are counted: ${cells}`);
  await shot(page, '36-admin-reports');
  await context.close();
});

test('on a Graph directory: OpenID Connect sign-in, an Entra method registered, a whole reset', async () => {
  // The third portal: directory and contacts in the Graph/Entra stand-in, the registration
  // page signed in through the stand-in's OpenID provider. Verified against the stand-in only.
  const GRAPH = need('PORTAL_GRAPH_URL');
  const STANDIN = need('GRAPH_STANDIN_URL');
  // Who the provider's login page has signed in (Entra would ask for the password there).
  const signIn = async (upn) => {
    const answer = await fetch(`${STANDIN}/_standin/signed-in`, { method: 'POST', body: upn });
    assert.equal(answer.status, 204);
  };

  // An administrator (in the Entra group "SSPR Admins") signs in to /admin the same way, with
  // a fresh sign-in at the provider, and enables self-service for Ada.
  await signIn('grace@contoso.example');
  const admin = await visitor();
  await admin.page.goto(`${GRAPH}/admin`);
  assert.equal(await admin.page.locator('#password').count(), 0, 'no password form on /admin either');
  await shot(admin.page, '34-graph-admin-signin');
  await admin.page.click('a[href="/admin/oidc"]');
  await admin.page.waitForSelector('#q');
  assert.match(await admin.page.locator('main').innerText(), /Grace Hopper/);
  await admin.page.fill('#q', 'ada');
  await admin.page.click('form[action="/admin"] button[type=submit]');
  await admin.page.click('a[href^="/admin/user?login=ada"]');
  await admin.page.waitForSelector('#toggle-enabled');
  assert.equal((await admin.page.locator('#toggle-enabled').innerText()).trim(), 'Enable SSPR');
  await admin.page.click('#toggle-enabled');
  await admin.page.waitForSelector('#toggle-enabled');
  assert.equal((await admin.page.locator('#toggle-enabled').innerText()).trim(), 'Disable SSPR');
  await shot(admin.page, '35-graph-admin-enabled');
  await admin.context.close();

  await signIn('ada@contoso.example');

  const user = await visitor();
  await user.page.goto(`${GRAPH}/passwordnotification`);
  assert.equal(await user.page.locator('#password').count(), 0, 'no password form: app-only Graph cannot check one');
  await shot(user.page, '29-graph-notification-signin');
  // To the provider's /authorize (code + PKCE) and back to the callback, which redeems the code
  // and checks the ID token.
  await user.page.click('a[href="/passwordnotification/oidc"]');
  await user.page.waitForSelector('#email');
  assert.ok(user.page.url().startsWith(GRAPH), user.page.url());
  assert.match(await user.page.locator('main').innerText(), /Ada Lovelace/);
  await shot(user.page, '30-graph-notification-signed-in');
  await user.page.fill('#email', 'ada@home.example');
  await user.page.click('form[action="/passwordnotification/save"] button[type=submit]');
  await user.page.waitForSelector('#code');
  const inbox = await user.context.newPage();
  const code = await pinFromOutbox(inbox, 'ada@home.example', null, GRAPH);
  await inbox.close();
  await user.page.fill('#code', code);
  await user.page.click('form[action="/passwordnotification/confirm"] button[type=submit]');
  await user.page.waitForSelector('[role=status]');
  assert.match(await user.page.locator('[role=status]').innerText(), /Saved/);
  assert.equal(await user.page.inputValue('#email'), 'ada@home.example');
  await shot(user.page, '31-graph-notification-saved');
  await user.context.close();

  // A whole reset: the PIN goes to the address now held as Ada's Entra e-mail method, and the
  // temporary password is set through passwordProfile.
  const { context, page } = await visitor();
  await page.goto(`${GRAPH}/passwordreset`);
  await page.fill('#login', 'ada@contoso.example');
  await page.click('button[type=submit]');
  await page.waitForSelector('input[name=method]');
  await page.locator('input[name=method]').first().check();
  await page.click('form[action="/passwordreset/send"] button[type=submit]');
  await page.waitForSelector('#pin');
  assert.match(await page.locator('main').innerText(), /A code was sent to a\*\*\*@h\*\*\*\.example/);
  await shot(page, '32-graph-reset-pin');
  const mail = await context.newPage();
  const pin = await pinFromOutbox(mail, 'ada@home.example', null, GRAPH);
  await mail.close();
  await page.fill('#pin', pin);
  await page.click('form[action="/passwordreset/verify"] button[type=submit]');
  await page.waitForSelector('input[name=mode]');
  await page.click('form[action="/passwordreset/complete"] button[type=submit]');
  await page.waitForSelector('#temporary-password');
  const temporary = (await page.locator('#temporary-password').innerText()).trim();
  secrets.push(temporary);
  assert.equal(temporary.length, 16);
  await shot(page, '33-graph-reset-temporary-password');
  await context.close();
  const log = readFileSync(need('PORTAL_GRAPH_LOG'), 'utf8');
  for (const secret of [code, pin, temporary, 'graph~app-secret', 'portal~secret']) {
    assert.ok(!log.includes(secret), 'a secret reached the Graph portal\'s log');
  }
});

test('German from the browser language', async () => {
  const { context, page } = await visitor('de-DE');
  await page.goto(`${URL}/passwordreset`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  assert.match(await page.locator('h1').innerText(), /Kennwort zurücksetzen/);
  await shot(page, '18-reset-de');
  await context.close();
});

test('French, Spanish, Italian and Dutch from the browser language, English for others', async () => {
  const want = [
    ['fr-FR', 'fr', /Réinitialiser votre mot de passe/],
    ['es-ES', 'es', /Restablecer su contraseña/],
    ['it-IT', 'it', /Reimposti la password/],
    ['nl-NL', 'nl', /Uw wachtwoord opnieuw instellen/],
    ['pl-PL', 'en', /Reset your password/],
  ];
  for (const [locale, lang, heading] of want) {
    const { context, page } = await visitor(locale);
    await page.goto(`${URL}/passwordreset`);
    assert.equal(await page.locator('html').getAttribute('lang'), lang, locale);
    assert.match(await page.locator('h1').innerText(), heading);
    if (lang === 'fr') await shot(page, '18-reset-fr');
    await context.close();
  }
});

test("the portal's log holds no PIN and no password", async () => {
  const log = readFileSync(need('PORTAL_LOG'), 'utf8');
  assert.ok(log.includes('listening on'), 'the log was captured');
  assert.ok(secrets.length >= 3, `secrets were collected (${secrets.length})`);
  for (const secret of secrets) assert.ok(!log.includes(secret), 'a secret reached the log');
});
