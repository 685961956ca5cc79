// The bot challenge through the npm package: `[bot_challenge]` from backends.fromConfig, the
// widget's token passed to beginReset as `ctx.challengeToken`, and what `challengeWidget()` tells a
// page, against the siteverify stand-in of siteverify.mjs (the real endpoints cannot be reached
// from the test machines).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDirectory, Outbox, Sspr, SsprError, backends } from '../index.js'
import { ADMIN, KEY, rejection } from './helpers.mjs'
import { GOOD, SECRET, SITE_KEY, siteverify } from './siteverify.mjs'

test('the widget token passes through beginReset to siteverify; missing or refused is CHALLENGE', async () => {
  const stand = await siteverify()
  try {
    const b = await backends.fromConfig({
      botChallenge: stand.config(),
    })
    assert.equal(b.botChallenge.slot, 'botChallenge')
    assert.doesNotMatch(String(b.botChallenge), /s3cret/)
    b.memoryDirectory.insert({ login: 'cora@example.org', displayName: 'Cora Config', dn: 'uid=cora,ou=staff,dc=example,dc=org' })
    const sspr = new Sspr({ ...b, secretKey: KEY, policy: { minResponseMs: 0 } })
    await sspr.setEnabled(ADMIN, 'cora@example.org', true)
    await sspr.updateContacts(ADMIN, 'cora@example.org', { email: 'cora@home.example' })
    const ctx = { clientIp: '192.0.2.45' }

    const missing = await rejection(sspr.beginReset('cora@example.org', ctx))
    assert.ok(missing instanceof SsprError, String(missing))
    assert.equal(missing.code, 'CHALLENGE')
    assert.equal(missing.reason, 'required')
    for (const login of ['cora@example.org', 'nobody@example.org']) {
      const refused = await rejection(sspr.beginReset(login, { ...ctx, challengeToken: 'forged-token' }))
      assert.equal(refused.code, 'CHALLENGE')
      assert.equal(refused.reason, 'failed')
      assert.doesNotMatch(refused.message, /forged-token/)
    }

    const challenge = await sspr.beginReset('cora@example.org', { ...ctx, challengeToken: GOOD })
    assert.deepEqual(challenge.methods.map((m) => m.channel), ['email'])
    assert.deepEqual(stand.forms.at(-1), { secret: SECRET, response: GOOD, remoteip: '192.0.2.45' })

    const bad = await rejection(sspr.beginReset('cora@example.org', { ...ctx, challengeToken: 'a b' }))
    assert.equal(bad.code, 'INVALID_INPUT')
    assert.equal(bad.field, 'challenge_token')
  } finally {
    await stand.close()
  }
})

test('challengeWidget says what a page needs, with the CSP sources of exactly that provider', async () => {
  const stand = await siteverify()
  try {
    const base = "default-src 'none'; base-uri 'none'"
    const always = new Sspr({ ...(await backends.fromConfig({ botChallenge: stand.config('hcaptcha') })), secretKey: KEY })
    const origins = 'https://hcaptcha.com https://*.hcaptcha.com'
    assert.deepEqual(always.challengeWidget(base), {
      provider: 'hcaptcha', siteKey: SITE_KEY, scriptUrl: 'https://js.hcaptcha.com/1/api.js', widgetClass: 'h-captcha',
      responseField: 'h-captcha-response', always: true,
      csp: `${base}; script-src ${origins}; frame-src ${origins}; style-src ${origins}; connect-src ${origins}`,
    })
    assert.doesNotMatch(JSON.stringify(always.challengeWidget()), /s3cret/)
    const later = await backends.fromConfig({ botChallenge: stand.config('turnstile', { policy: 'after_begins', beginsPerIp: 3 }) })
    const widget = new Sspr({ ...later, secretKey: KEY }).challengeWidget()
    assert.equal(widget.always, false)
    assert.equal(widget.csp, 'script-src https://challenges.cloudflare.com; frame-src https://challenges.cloudflare.com')
    const none = new Sspr({ directory: new MemoryDirectory(), notifier: new Outbox(), secretKey: KEY })
    assert.equal(none.challengeWidget(base), null)
  } finally {
    await stand.close()
  }
})
