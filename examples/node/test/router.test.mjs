// require('sspr/express') over real HTTP, driven as a browser and as an attacker would drive it; the
// README's lines (sspr-node/README.md, <!-- express-router -->) are run as written.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { readFileSync, writeFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const require = createRequire(import.meta.url)
const express = require('express')
const { Sspr, MemoryDirectory, Outbox, ManualClock, pageText, negotiateLocale } = require('sspr')
const { ssprRouter, FLOW_COOKIE, CSRF_COOKIE } = require('sspr/express')

const here = path.dirname(fileURLToPath(import.meta.url))
const JANE = 'jdoe@example.org'
const JANE_DN = 'uid=jdoe,ou=staff,dc=example,dc=org'
const JANE_MAIL = 'jane@home.example'
const ADMIN = { type: 'admin', id: 'helpdesk' }

async function makeSite({ policy = {}, trustProxy, bodyParsers = false, clock, router = {} } = {}) {
  const directory = new MemoryDirectory([
    { login: JANE, displayName: 'Jane Doe', dn: JANE_DN, password: 'Old-Passw0rd!' },
    { login: 'root@example.org', displayName: 'Root', dn: 'uid=root,ou=staff,dc=example,dc=org', groups: ['Domain Admins'] },
  ])
  const outbox = new Outbox()
  const sspr = new Sspr({ directory, notifier: outbox, secretKey: '7e'.repeat(32), policy: { minResponseMs: 0, ...policy }, ...(clock ? { clock } : {}) })
  await sspr.setEnabled(ADMIN, JANE, true)
  await sspr.updateContacts(ADMIN, JANE, { email: JANE_MAIL })
  const app = express()
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy)
  if (bodyParsers) app.use(express.json(), express.urlencoded({ extended: false }))
  app.use('/password', ssprRouter({ sspr, ...router }))
  return { app, sspr, outbox, directory }
}

async function serve(app, fn) {
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    await fn(browser(base))
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}

/** A client keeping cookies, as a browser does (path ignored: everything here is under /password). */
function browser(base) {
  const jar = new Map()
  const remember = (r) => {
    for (const line of r.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at)
      const value = pair.slice(at + 1)
      if (/max-age=0/i.test(line) || value === '') jar.delete(name)
      else jar.set(name, value)
    }
  }
  const send = async (method, url, { body, headers = {} } = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const r = await fetch(base + url, { method, body, headers: { ...(cookie ? { cookie } : {}), ...headers }, redirect: 'manual' })
    remember(r)
    const text = await r.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {}
    return { status: r.status, text, json, headers: r.headers }
  }
  return {
    base,
    jar,
    get: (url, headers) => send('GET', url, { headers }),
    api: (step, data, headers = {}) =>
      send('POST', `/password/api/${step}`, { body: JSON.stringify(data), headers: { 'content-type': 'application/json', ...headers } }),
    form: (url, data, headers = {}) => send('POST', url, { body: new URLSearchParams(data), headers }),
    raw: send,
  }
}

const pinOf = (outbox) => outbox.lastPinTo(JANE_MAIL)

test('the JSON API runs a whole reset with the flow id only in an HttpOnly cookie', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    const begun = await b.api('begin', { login: JANE })
    assert.equal(begun.status, 200, begun.text)
    assert.deepEqual(begun.json.methods, [{ id: 'email', channel: 'email', masked: 'j***@h***.example', needs_confirmation: false }])
    const cookie = begun.headers.getSetCookie().find((c) => c.startsWith(`${FLOW_COOKIE}=`))
    assert.match(cookie, /; HttpOnly/)
    assert.match(cookie, /; SameSite=Strict/)
    assert.match(cookie, /; Path=\/password(;|$)/)
    const flowId = b.jar.get(FLOW_COOKIE)
    assert.ok(flowId && !begun.text.includes(flowId), 'the flow id is never in the answer')
    assert.equal(begun.headers.get('cache-control'), 'no-store')

    assert.equal((await b.api('send', { method: 'email' })).status, 200)
    const verified = await b.api('verify', { pin: pinOf(site.outbox) })
    assert.equal(verified.status, 200, verified.text)
    assert.ok(verified.json.modes.includes('temporary'))
    const done = await b.api('complete', { mode: 'temporary' })
    assert.equal(done.status, 200, done.text)
    assert.equal(done.json.must_change, true)
    assert.equal(site.directory.passwordMatches(JANE_DN, done.json.temporary_password), true)
    assert.ok(!b.jar.has(FLOW_COOKIE), 'the flow cookie is cleared')
    b.jar.set(FLOW_COOKIE, flowId) // replayed
    const again = await b.api('complete', { mode: 'temporary' })
    assert.ok([409, 410].includes(again.status), again.text)
    assert.equal(site.directory.passwordMatches(JANE_DN, done.json.temporary_password), true)
  })
})

test('unknown and real logins get answers of the same shape', async () => {
  const site = await makeSite()
  const shapes = []
  for (const login of [JANE, 'nobody@example.org', 'root@example.org']) {
    await serve(site.app, async (b) => {
      const begun = await b.api('begin', { login })
      assert.equal(begun.status, 200, begun.text)
      assert.ok(b.jar.has(FLOW_COOKIE))
      const sent = await b.api('send', { method: begun.json.methods[0].id })
      assert.equal(sent.status, 200, sent.text)
      shapes.push(JSON.stringify([Object.keys(begun.json).sort(), Object.keys(begun.json.methods[0]).sort(), Object.keys(sent.json).sort()]))
    })
  }
  assert.equal(new Set(shapes).size, 1, shapes.join('\n'))
  assert.deepEqual([...new Set(site.outbox.messages().map((n) => n.to))], [JANE_MAIL])
})

test('a cross-site form or a foreign origin changes nothing', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    const asForm = await b.form('/password/api/begin', { login: JANE })
    assert.equal(asForm.status, 415)
    assert.equal(asForm.json.error, 'unsupported_media_type')
    const asText = await b.raw('POST', '/password/api/begin', { body: JSON.stringify({ login: JANE }), headers: { 'content-type': 'text/plain' } })
    assert.equal(asText.status, 415)
    const foreign = await b.api('begin', { login: JANE }, { origin: 'https://evil.example' })
    assert.equal(foreign.status, 403)
    assert.equal(foreign.json.error, 'cross_origin')
    assert.equal((await b.api('begin', { login: JANE }, { 'sec-fetch-site': 'cross-site' })).status, 403)
    assert.ok(!b.jar.has(FLOW_COOKIE))
    assert.equal((await b.api('begin', { login: JANE }, { origin: b.base })).status, 200)
    b.jar.clear() // what a cross-site request carries under SameSite=Strict
    const orphan = await b.api('send', { method: 'email' })
    assert.equal(orphan.status, 410)
    assert.equal(orphan.json.error, 'expired')
  })
  assert.equal(site.outbox.messages().length, 0)
})

test('pages run a whole reset with CSRF tokens, with or without the app\'s body parsers', async () => {
  for (const bodyParsers of [false, true]) {
    const site = await makeSite({ bodyParsers })
    await serve(site.app, async (b) => {
      const start = await b.get('/password/')
      assert.equal(start.status, 200)
      assert.match(start.headers.get('content-security-policy'), /default-src 'none'/)
      assert.doesNotMatch(start.headers.get('content-security-policy'), /script-src/)
      const csrf = start.text.match(/name="csrf" value="([^"]+)"/)[1]
      let page = await b.form('/password/begin', { csrf, login: JANE })
      assert.equal(page.status, 200, page.text)
      assert.match(page.text, /j\*\*\*@h\*\*\*\.example/)
      page = await b.form('/password/send', { csrf, method: 'email' })
      assert.match(page.text, /Enter your code/)
      const real = pinOf(site.outbox)
      const wrong = await b.form('/password/verify', { csrf, pin: real[0] === '1' ? '2'.repeat(real.length) : '1'.repeat(real.length) })
      assert.equal(wrong.status, 400)
      assert.match(wrong.text, /The code is wrong\. \d+ attempts? left\./)
      page = await b.form('/password/verify', { csrf, pin: real })
      assert.match(page.text, /Code accepted/)
      page = await b.form('/password/complete', { csrf, mode: 'temporary' })
      const shown = page.text.match(/<code id="temporary-password">([^<]+)<\/code>/)[1]
      const password = shown.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
      assert.equal(site.directory.passwordMatches(JANE_DN, password), true)
    })
  }
})

test('a form without the CSRF token changes nothing', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    await b.get('/password/')
    assert.ok(b.jar.has(CSRF_COOKIE))
    for (const data of [{ login: JANE }, { login: JANE, csrf: 'guessed' }]) {
      const refused = await b.form('/password/begin', data)
      assert.equal(refused.status, 403)
      assert.ok(!b.jar.has(FLOW_COOKIE))
    }
    b.jar.clear() // a token but no cookie: what a cross-site post carries
    assert.equal((await b.form('/password/begin', { login: JANE, csrf: 'x'.repeat(43) })).status, 403)
  })
  assert.equal(site.outbox.messages().length, 0)
})

test('a sibling subdomain that planted its own CSRF cookie still changes nothing', async () => {
  // evil.example.org is same-site with the portal: it can set a cookie for the mount (Domain=example.org)
  // and post a form carrying the same token, with the victim's flow cookie (SameSite lets same-site posts
  // carry it). Browsers name such a post `Sec-Fetch-Site: same-site`; the router's own pages post same-origin.
  const site = await makeSite()
  await serve(site.app, async (b) => {
    const planted = { cookie: `${CSRF_COOKIE}=planted-token` }
    for (const from of ['same-site', 'cross-site']) {
      const refused = await b.form('/password/begin', { login: JANE, csrf: 'planted-token' }, { ...planted, 'sec-fetch-site': from })
      assert.equal(refused.status, 403, from)
      assert.ok(!b.jar.has(FLOW_COOKIE), from)
    }
    // The same post from the router's own page (or a client that sends no Fetch Metadata) goes through.
    const own = await b.form('/password/begin', { login: JANE, csrf: 'planted-token' }, { ...planted, 'sec-fetch-site': 'same-origin' })
    assert.equal(own.status, 200, own.text)
  })
  assert.equal(site.outbox.messages().length, 0)
})

test('a flow cookie planted by a sibling subdomain cannot take over the victim\'s reset', async () => {
  // Cookie tossing: evil.example.org sets sspr_flow for Domain=example.org, Path=/, holding a flow the attacker
  // began for the victim's login. The browser sends both flow cookies, the victim's own (Path=/password) first and
  // the planted one last; a last-wins parser read the planted one, so the victim's send and verify ran on the
  // attacker's flow (method ids are the channel's name in every flow) and the attacker completed it.
  const plainFlow = (r, name = FLOW_COOKIE) => r.headers.getSetCookie().find((c) => c.startsWith(`${name}=`)).split(';')[0].split('=')[1]
  let site = await makeSite()
  await serve(site.app, async (b) => {
    const planted = plainFlow(await b.api('begin', { login: JANE }))
    const own = plainFlow(await b.api('begin', { login: JANE }))
    const both = { cookie: `${FLOW_COOKIE}=${own}; ${FLOW_COOKIE}=${planted}` }
    b.jar.clear()
    const sent = await b.api('send', { method: 'email' }, both)
    assert.equal(sent.status, 403, sent.text)
    assert.equal(sent.json.error, 'csrf')
    await b.get('/password/')
    const token = b.jar.get(CSRF_COOKIE)
    const page = await b.raw('POST', '/password/send', {
      body: new URLSearchParams({ method: 'email', csrf: token }),
      headers: { cookie: `${CSRF_COOKIE}=${token}; ${both.cookie}` },
    })
    assert.equal(page.status, 403, page.text)
  })
  assert.equal(site.outbox.messages().length, 0, 'nothing sent on either flow')

  // Over https the cookie is __Host-sspr_flow (Secure, Path=/, no Domain), which a sibling cannot set; the plain
  // name it can set is not read.
  const HOST_FLOW = `__Host-${FLOW_COOKIE}`
  site = await makeSite({ router: { secureCookies: true } })
  await serve(site.app, async (b) => {
    const planted = plainFlow(await b.api('begin', { login: JANE }), HOST_FLOW)
    const begun = await b.api('begin', { login: JANE })
    const cookie = begun.headers.getSetCookie().find((c) => c.startsWith(`${HOST_FLOW}=`))
    assert.match(cookie, /; Path=\/(;|$)/)
    assert.match(cookie, /; Secure/)
    assert.doesNotMatch(cookie, /domain/i)
    const browser = { cookie: `${HOST_FLOW}=${plainFlow(begun, HOST_FLOW)}; ${FLOW_COOKIE}=${planted}` }
    b.jar.clear()
    assert.equal((await b.api('send', { method: 'email' }, browser)).status, 200)
    assert.equal((await b.api('verify', { pin: pinOf(site.outbox) }, browser)).status, 200)
    const stolen = await b.api('complete', { mode: 'temporary' }, { cookie: `${HOST_FLOW}=${planted}` })
    assert.equal(stolen.status, 409, stolen.text)
    assert.equal(stolen.json.temporary_password, undefined)
    const done = await b.api('complete', { mode: 'temporary' }, browser)
    assert.equal(done.status, 200, done.text)
    assert.equal(site.directory.passwordMatches(JANE_DN, done.json.temporary_password), true)
    const cleared = done.headers.getSetCookie().find((c) => c.startsWith(`${HOST_FLOW}=`))
    assert.match(cleared, /Max-Age=0/)
    assert.match(cleared, /; Path=\/(;|$)/)
    assert.match(cleared, /; Secure/)
  })
})

test('bad input gets a typed error naming the field', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    for (const [data, field] of [[{}, 'login'], [{ login: 42 }, 'login'], [{ login: 'x'.repeat(5000) }, 'login']]) {
      const answer = await b.api('begin', data)
      assert.equal(answer.status, 400, answer.text)
      assert.equal(answer.json.error, 'invalid_input')
      assert.equal(answer.json.field, field)
    }
    const broken = await b.raw('POST', '/password/api/begin', { body: '{not json', headers: { 'content-type': 'application/json' } })
    assert.equal(broken.status, 400)
    assert.equal(broken.json.field, 'body')
    // Someone else's malformed cookie on the same site does not break the flow.
    const odd = await b.raw('POST', '/password/api/begin', { body: JSON.stringify({ login: JANE }), headers: { 'content-type': 'application/json', cookie: 'other=%E0%A4%A' } })
    assert.equal(odd.status, 200, odd.text)
    const huge = await b.raw('POST', '/password/api/begin', { body: JSON.stringify({ login: 'x'.repeat(64 * 1024) }), headers: { 'content-type': 'application/json' } })
    assert.ok([400, 413].includes(huge.status), String(huge.status))
  })
})

test('a client cannot pick its address with X-Forwarded-For', async () => {
  const policy = { ipBeginsPerHour: 3 }
  const direct = await makeSite({ policy })
  await serve(direct.app, async (b) => {
    const codes = []
    for (let i = 0; i < 5; i++) codes.push((await b.api('begin', { login: JANE }, { 'x-forwarded-for': `198.51.100.${i}` })).status)
    assert.deepEqual(codes, [200, 200, 200, 429, 429])
    const limited = await b.api('begin', { login: JANE })
    assert.equal(limited.json.error, 'rate_limited')
    assert.equal(Number(limited.headers.get('retry-after')), limited.json.retry_after_seconds)
  })
  // Behind a proxy the app trusts (here: loopback), Express believes its last hop only.
  const proxied = await makeSite({ policy, trustProxy: 'loopback' })
  await serve(proxied.app, async (b) => {
    for (let i = 0; i < 3; i++) assert.equal((await b.api('begin', { login: JANE }, { 'x-forwarded-for': '203.0.113.9' })).status, 200)
    assert.equal((await b.api('begin', { login: JANE }, { 'x-forwarded-for': '10.9.9.9, 203.0.113.9' })).status, 429)
    assert.equal((await b.api('begin', { login: JANE }, { 'x-forwarded-for': '203.0.113.10' })).status, 200)
  })
})

test("the README's lines, run as written, reset a password", async () => {
  const readme = readFileSync(path.join(here, '../../../sspr-node/README.md'), 'utf8')
  const snippet = readme.match(/<!-- express-router -->\s*```js\n([\s\S]*?)```/)[1]
  assert.ok(snippet.split('\n').filter((l) => l.trim()).length <= 10)
  // Written next to this package, so `require('express')` and `require('sspr')` resolve as in an app.
  const file = path.join(here, '..', 'readme-snippet.generated.js')
  writeFileSync(file, `${snippet}\nmodule.exports = { app, sspr, outbox }\n`)
  try {
    const { app, sspr, outbox } = require(file)
    await sspr.setEnabled(ADMIN, JANE, true)
    await sspr.updateContacts(ADMIN, JANE, { email: JANE_MAIL })
    await serve(app, async (b) => {
      assert.equal((await b.api('begin', { login: JANE })).status, 200)
      assert.equal((await b.api('send', { method: 'email' })).status, 200)
      assert.equal((await b.api('verify', { pin: pinOf(outbox) })).status, 200)
      const done = await b.api('complete', {})
      assert.equal(done.json.must_change, true)
    })
  } finally {
    rmSync(file, { force: true })
  }
})

// -- the bot challenge, against the siteverify stand-in of sspr-node/__test__/siteverify.mjs ----------------

const { backends } = require('sspr')
const stand = await import('../../../sspr-node/__test__/siteverify.mjs')
const PLAIN_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
const PROVIDERS = {
  turnstile: {
    script: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
    field: 'cf-turnstile-response',
    sources: { 'script-src': 'https://challenges.cloudflare.com', 'frame-src': 'https://challenges.cloudflare.com' },
  },
  hcaptcha: {
    script: 'https://js.hcaptcha.com/1/api.js',
    field: 'h-captcha-response',
    sources: Object.fromEntries(['script-src', 'frame-src', 'style-src', 'connect-src'].map((d) => [d, 'https://hcaptcha.com https://*.hcaptcha.com'])),
  },
  recaptcha: {
    script: 'https://www.google.com/recaptcha/api.js',
    field: 'g-recaptcha-response',
    sources: {
      'script-src': 'https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/',
      'frame-src': 'https://www.google.com/recaptcha/ https://recaptcha.google.com/recaptcha/',
    },
  },
}
const cspOf = (text) => Object.fromEntries(text.split('; ').map((d) => [d.slice(0, d.indexOf(' ')), d.slice(d.indexOf(' ') + 1)]))

/** A site whose begins need a bot challenge checked by the stand-in (`challenge`: more of its table). */
async function challengeSite(verifier, provider = 'turnstile', challenge = {}) {
  const b = await backends.fromConfig({ botChallenge: verifier.config(provider, challenge) })
  const directory = new MemoryDirectory([{ login: JANE, displayName: 'Jane Doe', dn: JANE_DN, password: 'Old-Passw0rd!' }])
  const outbox = new Outbox()
  const sspr = new Sspr({ directory, notifier: outbox, secretKey: '7e'.repeat(32), policy: { minResponseMs: 0 }, botChallenge: b.botChallenge })
  await sspr.setEnabled(ADMIN, JANE, true)
  await sspr.updateContacts(ADMIN, JANE, { email: JANE_MAIL })
  const app = express()
  app.use('/password', ssprRouter({ sspr }))
  return { app, sspr, outbox }
}

async function startPage(b) {
  const page = await b.get('/password/')
  assert.equal(page.status, 200)
  return { page, csrf: page.text.match(/name="csrf" value="([^"]+)"/)[1] }
}

test('without a bot challenge no page has a script, a widget or a looser CSP', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    const { page, csrf } = await startPage(b)
    const begun = await b.form('/password/begin', { csrf, login: JANE, 'cf-turnstile-response': 'x' })
    assert.equal(begun.status, 200) // a token nobody asked for is not read
    for (const answer of [page, begun]) {
      assert.equal(answer.headers.get('content-security-policy'), PLAIN_CSP)
      assert.doesNotMatch(answer.text, /<script|data-sitekey/)
    }
  })
})

for (const [provider, { script, sources }] of Object.entries(PROVIDERS)) {
  test(`${provider}: the start page shows its widget and the CSP allows that provider's sources only`, async () => {
    const verifier = await stand.siteverify()
    try {
      const site = await challengeSite(verifier, provider)
      await serve(site.app, async (b) => {
        const { page } = await startPage(b)
        assert.equal(page.text.split('<script').length - 1, 1)
        assert.ok(page.text.includes(`<script src="${script}" async defer></script>`), page.text)
        assert.ok(page.text.includes(`data-sitekey="${stand.SITE_KEY}"`))
        assert.deepEqual(cspOf(page.headers.get('content-security-policy')), { ...cspOf(PLAIN_CSP), ...sources })
        const other = await b.form('/password/send', { csrf: 'x' })
        assert.equal(other.headers.get('content-security-policy'), PLAIN_CSP)
        assert.doesNotMatch(other.text + page.text, /<script(?! src="https)|s3cret/)
      })
    } finally {
      await verifier.close()
    }
  })
}

test('a begin without or with a forged token is refused alike for every login; a solved one passes', async () => {
  const verifier = await stand.siteverify()
  try {
    const site = await challengeSite(verifier, 'recaptcha')
    await serve(site.app, async (b) => {
      const { csrf } = await startPage(b)
      const answers = []
      for (const login of [JANE, 'nobody@example.org']) {
        for (const token of [undefined, 'forged-token']) {
          const page = await b.form('/password/begin', { csrf, login, ...(token ? { 'g-recaptcha-response': token } : {}) })
          assert.equal(page.status, 403, page.text)
          assert.ok(!b.jar.has(FLOW_COOKIE), 'nothing began')
          assert.match(page.text, /class="g-recaptcha"/)
          assert.equal(cspOf(page.headers.get('content-security-policy'))['script-src'], PROVIDERS.recaptcha.sources['script-src'])
          answers.push(page.text.replaceAll(login, 'LOGIN'))
        }
      }
      assert.match(answers[0], /not a robot/)
      assert.match(answers[1], /did not succeed/)
      assert.equal(answers[0], answers[2])
      assert.equal(answers[1], answers[3])
      // Another provider's field is not read.
      assert.equal((await b.form('/password/begin', { csrf, login: JANE, 'cf-turnstile-response': stand.GOOD })).status, 403)
      assert.equal(site.outbox.messages().length, 0)

      const page = await b.form('/password/begin', { csrf, login: JANE, 'g-recaptcha-response': stand.GOOD })
      assert.equal(page.status, 200, page.text)
      assert.match(page.text, /j\*\*\*@h\*\*\*\.example/)
      assert.equal(page.headers.get('content-security-policy'), PLAIN_CSP)
      const form = verifier.forms.at(-1)
      assert.deepEqual([form.response, form.secret, form.remoteip], [stand.GOOD, stand.SECRET, '127.0.0.1'])
      assert.equal((await b.form('/password/send', { csrf, method: 'email' })).status, 200)
      assert.ok(pinOf(site.outbox))

      verifier.down = true
      const down = await b.form('/password/begin', { csrf, login: JANE, 'g-recaptcha-response': stand.GOOD })
      assert.equal(down.status, 503)
      assert.match(down.text, /cannot be verified right now/)
      assert.doesNotMatch(down.text, /<script/)
    })
  } finally {
    await verifier.close()
  }
})

test('the JSON API reads challenge_token and answers stable codes, not a generic 403', async () => {
  const verifier = await stand.siteverify()
  try {
    const site = await challengeSite(verifier, 'turnstile')
    await serve(site.app, async (b) => {
      const missing = await b.api('begin', { login: JANE })
      assert.equal(missing.status, 403)
      assert.deepEqual(missing.json, {
        error: 'challenge_required', message: 'Please complete the check that you are not a robot, then continue.',
        reason: 'required', provider: 'turnstile', site_key: stand.SITE_KEY,
      })
      const forged = await b.api('begin', { login: 'nobody@example.org', challenge_token: 'forged-token' })
      assert.deepEqual([forged.status, forged.json.error], [403, 'challenge_failed'])
      assert.doesNotMatch(forged.text, /forged-token|help desk/)
      assert.ok(!b.jar.has(FLOW_COOKIE))
      assert.equal((await b.api('begin', { login: JANE, 'cf-turnstile-response': stand.GOOD })).status, 403)
      const bad = await b.api('begin', { login: JANE, challenge_token: ['not', 'text'] })
      assert.deepEqual([bad.status, bad.json.field], [400, 'challenge_token'])
      const spaced = await b.api('begin', { login: JANE, challenge_token: 'a b' })
      assert.deepEqual([spaced.status, spaced.json.field], [400, 'challenge_token'])

      const begun = await b.api('begin', { login: JANE, challenge_token: stand.GOOD })
      assert.equal(begun.status, 200, begun.text)
      assert.equal((await b.api('send', { method: 'email' })).status, 200)

      verifier.down = true
      const down = await b.api('begin', { login: JANE, challenge_token: stand.GOOD })
      assert.deepEqual([down.status, down.json.error, down.json.provider], [503, 'challenge_unavailable', undefined])
    })
  } finally {
    await verifier.close()
  }
})

test('after N begins the widget appears once a begin was refused for it', async () => {
  const verifier = await stand.siteverify()
  try {
    const site = await challengeSite(verifier, 'turnstile', { policy: 'after_begins', beginsPerIp: 2, windowMinutes: 10 })
    await serve(site.app, async (b) => {
      const { page, csrf } = await startPage(b)
      assert.doesNotMatch(page.text, /<script/)
      assert.equal(page.headers.get('content-security-policy'), PLAIN_CSP)
      for (let i = 0; i < 2; i++) assert.equal((await b.form('/password/begin', { csrf, login: JANE })).status, 200)
      const asked = await b.form('/password/begin', { csrf, login: JANE })
      assert.equal(asked.status, 403)
      assert.match(asked.text, /class="cf-turnstile"/)
      assert.ok(asked.text.includes(`value="${JANE}"`))
      assert.equal(cspOf(asked.headers.get('content-security-policy'))['script-src'], 'https://challenges.cloudflare.com')
      const solved = await b.form('/password/begin', { csrf, login: JANE, 'cf-turnstile-response': stand.GOOD })
      assert.equal(solved.status, 200, solved.text)
    })
  } finally {
    await verifier.close()
  }
})

// -- the pages in the visitor's language ------------------------------------------------------------------

const GERMAN = { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' }
const otherPin = (real) => (real[0] === '1' ? '2' : '1').repeat(real.length)

test('pageText and negotiateLocale read the one catalogue and refuse what it does not have', () => {
  assert.equal(pageText('de-CH', 'wrong-pin', { attempts: 1 }), 'Der Code ist falsch. Noch 1 Versuch.')
  assert.equal(pageText('fr', 'wrong-pin', { attempts: 3 }), 'Le code est incorrect. 3 tentatives restantes.')
  const at = new Date(Date.UTC(2026, 11, 1, 19, 4))
  assert.equal(pageText('en', 'pin-status', { time: at, attempts: 2 }), 'Valid until 19:04 (UTC). 2 attempts left.')
  assert.match(pageText('de', 'blocked', { at }), /bis 1\. Dezember 2026 um 19:04 \(UTC\) gesperrt/)
  assert.equal(negotiateLocale('nl-BE, de;q=0.5'), 'nl')
  assert.equal(negotiateLocale('pt-BR'), 'en')
  assert.equal(negotiateLocale(undefined), 'en')
  assert.equal(negotiateLocale('nl', ['fr', 'de']), 'fr')
  for (const [call, field] of [
    [() => pageText('pt', 'reset-title'), 'locale'],
    [() => pageText('en', 'no-such-message'), 'id'],
    [() => pageText('en', 'wrong-pin', { attempts: -1 }), 'args'],
    [() => pageText('en', 'wrong-pin', { attempts: 1.5 }), 'args'],
    [() => negotiateLocale('de', ['de', 'pt']), 'locale'],
  ]) {
    assert.throws(call, (e) => e.code === 'INVALID_INPUT' && e.field === field)
  }
})

test('a German browser gets the whole reset in German', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    const start = await b.get('/password/', GERMAN)
    assert.match(start.text, /<html lang="de">/)
    assert.equal(start.headers.get('content-language'), 'de')
    assert.match(start.text, /<h1>Kennwort zurücksetzen<\/h1>/)
    assert.match(start.text, /Benutzername \(z\. B\. jane\.doe@example\.org\)/)
    assert.match(start.text, /<button>Weiter<\/button>/)
    assert.doesNotMatch(start.text, /Reset your password/)
    const csrf = start.text.match(/name="csrf" value="([^"]+)"/)[1]
    let page = await b.form('/password/begin', { csrf, login: JANE }, GERMAN)
    assert.match(page.text, /Wohin sollen wir Ihren Einmal-Code senden\?/)
    assert.match(page.text, /E-Mail an j\*\*\*@h\*\*\*\.example/)
    page = await b.form('/password/send', { csrf, method: 'email' }, GERMAN)
    assert.match(page.text, /<h1>Code eingeben<\/h1>/)
    assert.match(page.text, /Wir haben einen Code per E-Mail gesendet\. Gültig bis \d\d:\d\d \(UTC\)\. Noch \d+ Versuche\./)
    const real = pinOf(site.outbox)
    const wrong = await b.form('/password/verify', { csrf, pin: otherPin(real) }, GERMAN)
    assert.equal(wrong.status, 400)
    const left = Number(wrong.text.match(/Der Code ist falsch\. Noch (\d+) Versuche\./)[1]) // a German plural
    assert.ok(left >= 2, wrong.text)
    page = await b.form('/password/verify', { csrf, pin: real }, GERMAN)
    assert.match(page.text, /<h1>Code bestätigt<\/h1>/)
    assert.match(page.text, /Ein temporäres Kennwort erhalten/)
    page = await b.form('/password/complete', { csrf, mode: 'temporary' }, GERMAN)
    assert.match(page.text, /<html lang="de">/)
    assert.match(page.text, /<h1>Ihr temporäres Kennwort<\/h1>/)
    assert.match(page.text, /Notieren Sie es jetzt/)
    const shown = page.text.match(/<code id="temporary-password">([^<]+)<\/code>/)[1]
    const password = shown.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    assert.equal(site.directory.passwordMatches(JANE_DN, password), true)
    const again = await b.form('/password/complete', { csrf, mode: 'temporary' }, GERMAN)
    assert.equal(again.status, 410)
    assert.match(again.text, /Dieser Vorgang ist abgelaufen/)
    assert.match(again.text, /Neu beginnen/)
  })
})

test('an unsupported or hostile language falls back to English', async () => {
  const site = await makeSite()
  await serve(site.app, async (b) => {
    for (const header of ['pt-BR, pl;q=0.8', '<script>alert(1)</script>', '*']) {
      const start = await b.get('/password/', { 'accept-language': header })
      assert.match(start.text, /<html lang="en">/, header)
      assert.match(start.text, /<h1>Reset your password<\/h1>/)
      assert.doesNotMatch(start.text, /<script/)
    }
  })
})

test("errors are in the visitor's language on the pages and in the JSON API", async () => {
  const site = await makeSite({ policy: { ipBeginsPerHour: 1 } })
  const FRENCH = { 'accept-language': 'fr-CH, fr;q=0.9' }
  await serve(site.app, async (b) => {
    const start = await b.get('/password/', FRENCH)
    const csrf = start.text.match(/name="csrf" value="([^"]+)"/)[1]
    const first = await b.form('/password/begin', { csrf, login: JANE }, FRENCH)
    assert.match(first.text, /E-mail à j\*\*\*@h\*\*\*\.example/)
    const limited = await b.form('/password/begin', { csrf, login: JANE }, FRENCH)
    assert.equal(limited.status, 429)
    assert.match(limited.text, /<html lang="fr">/)
    assert.match(limited.text, /Trop de demandes\. Veuillez réessayer dans \d+ minutes?\./)
    const api = await b.api('begin', { login: JANE }, FRENCH)
    assert.equal(api.status, 429)
    assert.equal(api.json.error, 'rate_limited')
    assert.match(api.json.message, /^Trop de demandes\./)
    const bad = await b.api('verify', { pin: 12 }, FRENCH)
    assert.deepEqual(bad.json, { error: 'invalid_input', message: 'Veuillez vérifier votre saisie (pin).', field: 'pin' })
  })
  const german = await makeSite()
  await serve(german.app, async (b) => {
    assert.equal((await b.api('begin', { login: JANE }, GERMAN)).status, 200)
    assert.equal((await b.api('send', { method: 'email' }, GERMAN)).status, 200)
    const wrong = await b.api('verify', { pin: otherPin(pinOf(german.outbox)) }, GERMAN)
    assert.equal(wrong.json.error, 'wrong_pin')
    assert.equal(wrong.json.message, `Der Code ist falsch. Noch ${wrong.json.attempts_left} Versuche.`)
  })
})

test('unknown and real logins get identical pages in German', async () => {
  const clock = new ManualClock(new Date(Date.UTC(2026, 11, 6, 9, 30)))
  const site = await makeSite({ clock })
  const pages = []
  for (const login of [JANE, 'nobody@example.org', 'root@example.org', 'gone@example.org']) {
    await serve(site.app, async (b) => {
      const start = await b.get('/password/', GERMAN)
      const csrf = start.text.match(/name="csrf" value="([^"]+)"/)[1]
      const methods = await b.form('/password/begin', { csrf, login }, GERMAN)
      assert.equal(methods.status, 200)
      assert.match(methods.text, /<html lang="de">/)
      const sent = await b.form('/password/send', { csrf, method: 'email' }, GERMAN)
      assert.equal(sent.status, 200)
      assert.match(sent.text, /Wir haben einen Code per E-Mail gesendet\./)
      // Only the per-visitor CSRF token and the masked contact (each decoy's own, by design) are taken out.
      const strip = (text) => text.replaceAll(csrf, 'CSRF').replace(/[a-z]\*\*\*@[a-z]\*\*\*\.[a-z]+/g, 'MASKED')
      pages.push([strip(methods.text), strip(sent.text)])
    })
  }
  for (const page of pages) assert.deepEqual(page, pages[0])
  assert.deepEqual([...new Set(site.outbox.messages().map((n) => n.to))], [JANE_MAIL])
})

test('languages restricts or forces the language, and an unknown one is refused when the router is made', async () => {
  const forced = await makeSite({ router: { languages: ['fr'] } })
  await serve(forced.app, async (b) => {
    const start = await b.get('/password/', GERMAN)
    assert.match(start.text, /<html lang="fr">/)
    assert.match(start.text, /Réinitialiser votre mot de passe/)
  })
  const offered = await makeSite({ router: { languages: ['de', 'nl'] } })
  await serve(offered.app, async (b) => {
    assert.match((await b.get('/password/', { 'accept-language': 'nl-BE, de;q=0.5' })).text, /<html lang="nl">/)
    assert.match((await b.get('/password/', { 'accept-language': 'fr' })).text, /<html lang="de">/) // the first offered
  })
  assert.throws(() => ssprRouter({ sspr: forced.sspr, languages: ['de', 'pt'] }), (e) => e.code === 'INVALID_INPUT' && e.field === 'locale')
})

test('a misspelt or mistyped router option is CONFIG when the router is made, not a router without it', async () => {
  // On main each built a router: `secureCookie: true` served the flow cookie (a verified flow's bearer credential)
  // without Secure over http, and `allowedOrigins` as a string let any part of it through (String.includes).
  const { sspr } = await makeSite()
  for (const router of [
    { secureCookie: true },
    { allowedOrigin: ['https://app.example.org'] },
    { allowedOrigins: 'https://app.example.org' },
    { allowedOrigins: [42] },
    { secureCookies: 'false' },
    { pages: 'no' },
    { layout: '<main></main>' },
  ]) {
    assert.throws(() => ssprRouter({ sspr, ...router }), (e) => e.code === 'CONFIG' && /ssprRouter/.test(e.message), JSON.stringify(router))
  }
  // No engine at all, as a first try without reading on, is the same typed CONFIG naming the option.
  for (const options of [undefined, {}, { sspr: {} }, { sspr: 'engine' }]) {
    assert.throws(() => ssprRouter(options), (e) => e.code === 'CONFIG' && /options\.sspr/.test(e.message), JSON.stringify(options))
  }
  const site = await makeSite({ router: { allowedOrigins: ['https://app.example.org'], secureCookies: false, pages: false } })
  await serve(site.app, async (b) => {
    assert.equal((await b.api('begin', { login: JANE }, { origin: 'https://app.example.org' })).status, 200)
    assert.equal((await b.api('begin', { login: JANE }, { origin: 'https://app.example.or' })).status, 403)
  })
})

test("every error of tests/parity/answers.json is answered as sspr-core says (the Python routers replay it too)", async () => {
  const { core } = require('sspr')
  assert.ok(core, 'sspr-node is built with the `vectors` feature for the tests')
  const file = path.join(here, '..', '..', '..', 'tests', 'parity', 'answers.json')
  const { cases } = JSON.parse(readFileSync(file, 'utf8'))
  // An engine whose begin fails with the case's error, made as sspr makes every error.
  let failing = null
  const app = express()
  app.use('/password', ssprRouter({ sspr: { beginReset: async () => core.throwError(JSON.stringify(failing)) } }))
  await serve(app, async (b) => {
    for (const c of cases) {
      failing = c.error
      for (const [lang, message] of Object.entries(c.expect.text)) {
        const r = await b.api('begin', { login: JANE }, { 'accept-language': lang })
        assert.equal(r.status, c.expect.status, `${c.id} (${lang})`)
        assert.deepEqual(r.json, { error: c.expect.code, message, ...c.expect.fields }, `${c.id} (${lang})`)
        if (c.expect.fields.retry_after_seconds !== undefined) {
          assert.equal(r.headers.get('retry-after'), String(c.expect.fields.retry_after_seconds), c.id)
        }
      }
    }
  })
})
