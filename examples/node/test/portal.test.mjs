// The Express portal end to end over HTTP: a whole reset, a wrong code, hostile input.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { createPortal } = require('../dist/server.js')

async function withPortal(fn) {
  const portal = await createPortal('7e'.repeat(32))
  const server = portal.app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  const post = (path, form) =>
    fetch(base + path, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' }).then(async (r) => ({ status: r.status, text: await r.text(), headers: r.headers }))
  try {
    await fn({ ...portal, base, post })
  } finally {
    server.close()
  }
}

const hidden = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1]

test('a whole reset through the pages', () =>
  withPortal(async ({ post, outbox, base }) => {
    let page = await post('/passwordreset', { login: 'jdoe@example.org' })
    assert.equal(page.status, 200)
    assert.match(page.text, /j\*\*\*@h\*\*\*\.example/)
    const flow = hidden(page.text, 'flow')
    page = await post('/passwordreset/send', { flow, method: 'email' })
    assert.match(page.text, /Enter your code/)
    const wrong = await post('/passwordreset/verify', { flow, pin: '1' })
    assert.equal(wrong.status, 400)
    const pin = outbox.lastPinTo('jdoe@home.example')
    page = await post('/passwordreset/verify', { flow, pin })
    assert.match(page.text, /Code accepted/)
    page = await post('/passwordreset/complete', { flow, mode: 'temporary' })
    const password = page.text.match(/<code id="temporary-password">([^<]+)<\/code>/)[1]
    assert.equal(password.length, 16)
    const again = await post('/passwordreset/complete', { flow, mode: 'temporary' })
    assert.equal(again.status, 400)
    const outboxPage = await (await fetch(`${base}/outbox`)).text()
    assert.ok(!outboxPage.includes(password), 'the temporary password is never sent')
    const signIn = await post('/passwordnotification', { login: 'jdoe@example.org', password })
    assert.match(signIn.text, /Hello Jane Doe/)
  }))

test('hostile input gets a clean 400, never a crash or a reflected script', () =>
  withPortal(async ({ post }) => {
    for (const login of ['', '<script>alert(1)</script>\u0000', 'x'.repeat(5000)]) {
      const page = await post('/passwordreset', { login })
      assert.equal(page.status, 400)
      assert.ok(!page.text.includes('<script>alert'))
    }
    const page = await post('/passwordreset/send', { flow: '"><script>', method: 'email' })
    assert.equal(page.status, 400)
    assert.ok(!page.text.includes('"><script>'))
    const unknown = await post('/passwordreset', { login: 'nobody@example.org' })
    assert.equal(unknown.status, 200, 'an unknown login looks like a real one')
  }))

test('a new address is saved only with the code sent to it', () =>
  withPortal(async ({ post, outbox, sspr }) => {
    const me = { login: 'jdoe@example.org', password: 'Start-Passw0rd' }
    let page = await post('/passwordnotification', { ...me, email: 'jane@new.example' })
    assert.match(page.text, /We sent a code to j\*\*\*@n\*\*\*\.example/)
    assert.notEqual((await sspr.contacts(me.login)).email?.value, 'jane@new.example', 'not saved before its code')
    await sspr.flushDeliveries()
    const code = outbox.lastProofCodeTo('jane@new.example')
    const proof = hidden(page.text, 'proof')
    const wrong = await post('/passwordnotification/confirm', { ...me, proof, code: code === '00000000' ? '11111111' : '00000000' })
    assert.equal(wrong.status, 400)
    page = await post('/passwordnotification/confirm', { ...me, proof, code })
    assert.match(page.text, /Alternate e-mail: j\*\*\*@n\*\*\*\.example/)
  }))
