// The bot challenge through the npm package: `[bot_challenge]` from backends.fromConfig, the
// widget's token passed to beginReset as `ctx.challengeToken`, against a stand-in of
// Cloudflare Turnstile's siteverify written here (the real endpoint cannot be reached from the
// test machines).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { Sspr, SsprError, backends } from '../index.js'
import { ADMIN, KEY, rejection } from './helpers.mjs'

const GOOD = 'stand-in-good-token-4e2'

/** A siteverify stand-in: GOOD passes, any other token is refused; the forms it got are kept. */
async function siteverify() {
  const forms = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body))
      forms.push(form)
      const ok = form.response === GOOD
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ success: ok, hostname: 'reset.example.org', 'error-codes': ok ? [] : ['invalid-input-response'] }))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { forms, server, url: `http://127.0.0.1:${server.address().port}/siteverify` }
}

test('the widget token passes through beginReset to siteverify; missing or refused is CHALLENGE', async () => {
  const stand = await siteverify()
  try {
    const b = await backends.fromConfig({
      botChallenge: {
        provider: 'turnstile', siteKey: '0x4AAA-site', secret: '0x4AAA-s3cret', verifyUrl: stand.url,
        hostnames: ['reset.example.org'],
      },
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
    assert.deepEqual(stand.forms.at(-1), { secret: '0x4AAA-s3cret', response: GOOD, remoteip: '192.0.2.45' })

    const bad = await rejection(sspr.beginReset('cora@example.org', { ...ctx, challengeToken: 'a b' }))
    assert.equal(bad.code, 'INVALID_INPUT')
    assert.equal(bad.field, 'challenge_token')
  } finally {
    stand.server.close()
  }
})
