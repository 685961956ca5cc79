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
  // Cookies kept as a browser keeps them: the reset router holds the flow id and its CSRF token there.
  const jar = new Map()
  const keep = (r) => {
    for (const line of r.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]
      if (/max-age=0/i.test(line)) jar.delete(name)
      else jar.set(name, value)
    }
  }
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const post = (path, form) =>
    fetch(base + path, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual', headers: { cookie: cookie() } }).then(async (r) => {
      keep(r)
      return { status: r.status, text: await r.text(), headers: r.headers }
    })
  const get = (path) =>
    fetch(base + path, { headers: { cookie: cookie() } }).then(async (r) => {
      keep(r)
      return { status: r.status, text: await r.text(), headers: r.headers }
    })
  try {
    await fn({ ...portal, base, post, get, jar })
  } finally {
    server.close()
  }
}

const hidden = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1]

test('a whole reset through the pages', () =>
  withPortal(async ({ post, get, outbox, base, jar }) => {
    const csrf = hidden((await get('/passwordreset/')).text, 'csrf')
    let page = await post('/passwordreset/begin', { csrf, login: 'jdoe@example.org' })
    assert.equal(page.status, 200)
    assert.match(page.text, /j\*\*\*@h\*\*\*\.example/)
    const flow = jar.get('sspr_flow')
    assert.ok(flow && !page.text.includes(flow), 'the flow id stays in its HttpOnly cookie')
    page = await post('/passwordreset/send', { csrf, method: 'email' })
    assert.match(page.text, /Enter your code/)
    const wrong = await post('/passwordreset/verify', { csrf, pin: '1' })
    assert.equal(wrong.status, 400)
    const pin = outbox.lastPinTo('jdoe@home.example')
    page = await post('/passwordreset/verify', { csrf, pin })
    assert.match(page.text, /Code accepted/)
    page = await post('/passwordreset/complete', { csrf, mode: 'temporary' })
    const password = page.text.match(/<code id="temporary-password">([^<]+)<\/code>/)[1].replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    assert.equal(password.length, 16)
    jar.set('sspr_flow', flow) // replayed after the cookie was cleared
    const again = await post('/passwordreset/complete', { csrf, mode: 'temporary' })
    assert.ok([409, 410].includes(again.status), String(again.status))
    const outboxPage = await (await fetch(`${base}/outbox`)).text()
    assert.ok(!outboxPage.includes(password), 'the temporary password is never sent')
    const signIn = await post('/passwordnotification', { login: 'jdoe@example.org', password })
    assert.match(signIn.text, /Hello Jane Doe/)
  }))

test('hostile input gets a clean 400, never a crash or a reflected script', () =>
  withPortal(async ({ post, get, jar }) => {
    const csrf = hidden((await get('/passwordreset/')).text, 'csrf')
    for (const login of ['', '<script>alert(1)</script>\u0000', 'x'.repeat(5000)]) {
      const page = await post('/passwordreset/begin', { csrf, login })
      assert.equal(page.status, 400)
      assert.ok(!page.text.includes('<script>alert'))
    }
    jar.set('sspr_flow', '"><script>')
    const page = await post('/passwordreset/send', { csrf, method: 'email' })
    assert.equal(page.status, 400)
    assert.ok(!page.text.includes('"><script>'))
    const unknown = await post('/passwordreset/begin', { csrf, login: 'nobody@example.org' })
    assert.equal(unknown.status, 200, 'an unknown login looks like a real one')
    // Its masked address has the demo's TLD too, not a real-world one that would give it away.
    assert.match(unknown.text, /\w\*\*\*@\w\*\*\*\.example\b/)
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
