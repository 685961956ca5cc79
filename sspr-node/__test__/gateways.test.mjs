// The HTTP notifiers of sspr-backends (Twilio SMS, signed webhook) against a gateway stand-in
// on 127.0.0.1: no real Twilio can run here, so a node:http server checks the wire format
// (path, Basic auth, form fields; JSON body and HMAC signature) and answers like the real one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { TwilioSms, WebhookNotifier, Outbox, SsprError } from '../index.js'
import { setup, enroll } from './helpers.mjs'

const HOOK_KEY = 'hook-key-'.repeat(4)

async function gateway(handler) {
  const requests = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body }
      requests.push(r)
      const [status, answer] = handler(r)
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(answer))
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { base: `http://127.0.0.1:${server.address().port}`, requests, close: () => server.close() }
}

const twilioOk = (r) => [201, { sid: 'SM' + 'a'.repeat(32), status: 'queued' }]
const hookOk = () => [200, { ok: true }]

test('SMS through the Twilio API and e-mail through a signed webhook, one notifier per channel', async () => {
  const sms = await gateway(twilioOk)
  const hook = await gateway(hookOk)
  try {
    const twilio = new TwilioSms({ accountSid: 'AC123', authToken: 'tw-token', from: '+15005550006', baseUrl: sms.base })
    const webhook = new WebhookNotifier({ url: `${hook.base}/hook`, key: HOOK_KEY })
    const t = setup({ notifier: { email: webhook, sms: twilio }, policy: { smsEnabled: true, decoyCountryCodes: ['1'] }, start: new Date() })
    await enroll(t.sspr, 'jdoe@example.org', { email: 'jane@home.example', phone: '+44 7400 900123' })
    const challenge = await t.sspr.beginReset('jdoe@example.org')
    assert.deepEqual(challenge.methods.map((m) => m.id).sort(), ['email', 'sms'])

    await t.sspr.sendPin(challenge.flowId, 'sms')
    await t.sspr.flushDeliveries() // the text goes out off the request path
    const request = sms.requests.at(-1)
    assert.equal(request.method, 'POST')
    assert.equal(request.url, '/2010-04-01/Accounts/AC123/Messages.json')
    assert.equal(request.headers.authorization, `Basic ${Buffer.from('AC123:tw-token').toString('base64')}`)
    const form = new URLSearchParams(request.body)
    assert.equal(form.get('To'), '+447400900123')
    assert.equal(form.get('From'), '+15005550006')
    const pin = form.get('Body').match(/\b(\d{8})\b/)[1]
    await t.sspr.verifyPin(challenge.flowId, pin)
    assert.equal((await t.sspr.completeReset(challenge.flowId)).mustChange, true)
    await t.sspr.flushDeliveries() // the notice too leaves the request path

    // The "password was reset" notice went to the e-mail address through the webhook, signed.
    const notice = hook.requests.find((r) => JSON.parse(r.body).kind === 'password_reset')
    assert.ok(notice, 'the webhook got the password-reset notice')
    const ts = notice.headers['x-sspr-timestamp']
    const expected = 'v1=' + createHmac('sha256', HOOK_KEY).update(`${ts}.`).update(notice.body).digest('hex')
    assert.ok(timingSafeEqual(Buffer.from(notice.headers['x-sspr-signature']), Buffer.from(expected)))
    assert.equal(JSON.parse(notice.body).to, 'jane@home.example')
  } finally {
    sms.close()
    hook.close()
  }
})

test('a gateway refusing or failing is answered as success and recorded in the audit trail', async () => {
  for (const [status, kind] of [
    [400, 'rejected'],
    [503, 'unavailable'],
  ]) {
    const sms = await gateway(() => [status, { code: 21211, message: 'nope' }])
    try {
      const twilio = new TwilioSms({ accountSid: 'AC123', authToken: 't', from: '+15005550006', baseUrl: sms.base })
      const t = setup({ notifier: { email: new Outbox(), sms: twilio }, policy: { smsEnabled: true, decoyCountryCodes: ['1'] }, start: new Date() })
      await enroll(t.sspr, 'jdoe@example.org', { phone: '+44 7400 900123' })
      const challenge = await t.sspr.beginReset('jdoe@example.org')
      // Not the caller's business: an unknown login would not see it either.
      await t.sspr.sendPin(challenge.flowId, 'sms')
      await t.sspr.flushDeliveries()
      const failed = t.audit.events().filter((e) => e.kind === 'pin_sent' && e.outcome.result === 'failed')
      assert.equal(failed.length, 1, `HTTP ${status}`)
      assert.match(failed[0].outcome.error, new RegExp(kind, 'i'), `HTTP ${status}`)
    } finally {
      sms.close()
    }
  }
  assert.throws(() => new TwilioSms({ accountSid: 'not a sid!', authToken: 't', from: '+1' }), (e) => e.code === 'BACKEND')
  assert.throws(() => new WebhookNotifier({ url: 'http://127.0.0.1:1/', key: 'short' }), (e) => e instanceof SsprError)
})
