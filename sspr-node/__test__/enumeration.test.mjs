// Account enumeration through a slow or failing notifier (issue 11 item 2), with the library's
// default policy: a real login and an unknown one get the same answers, in the same time.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Sspr, MemoryDirectory, MemoryAuditSink, SsprError } from '../index.js'
import { ADMIN, KEY, USERS, enroll, setup } from './helpers.mjs'

const REAL = 'jdoe@example.org'
const UNKNOWN = 'nobody@example.org'

/** What a caller sees of an answer: 'ok' or the error's code. */
async function answer(promise) {
  try {
    await promise
    return 'ok'
  } catch (e) {
    assert.ok(e instanceof SsprError, String(e))
    return e.code
  }
}

test('a notifier outage answers real and unknown logins alike', async () => {
  const notifier = {
    sent: [],
    send() {
      throw new Error('smtp://relay unreachable')
    },
  }
  const t = setup({ notifier })
  await enroll(t.sspr)
  const seen = []
  for (const login of [REAL, UNKNOWN]) {
    const c = await t.sspr.beginReset(login)
    seen.push([
      await answer(t.sspr.sendPin(c.flowId, 'email')),
      await answer(t.sspr.sendPin(c.flowId, 'email')),
      await answer(t.sspr.verifyPin(c.flowId, '00000000')),
    ])
  }
  await t.sspr.flushDeliveries()
  assert.deepEqual(seen[0], ['ok', 'RATE_LIMITED', 'WRONG_PIN'])
  assert.deepEqual(seen[1], seen[0])
  const failed = t.audit.events().filter((e) => e.kind === 'pin_sent' && e.outcome.result === 'failed')
  assert.equal(failed.length, 1, 'the failed delivery is in the audit trail')
})

test('a slow notifier does not tell real from unknown logins by timing (default policy)', async () => {
  const sent = []
  const slow = {
    async send(n) {
      await new Promise((r) => setTimeout(r, 200))
      sent.push(n)
    },
  }
  // No clock: the default policy pads answers on the runtime's real timer.
  const sspr = new Sspr({ directory: new MemoryDirectory(USERS), notifier: slow, audit: new MemoryAuditSink(), secretKey: KEY })
  assert.ok(sspr.policy.toJSON().min_response_ms > 0, 'the default policy pads')
  await sspr.setEnabled(ADMIN, REAL, true)
  await sspr.updateContacts(ADMIN, REAL, { email: 'jane@home.example' })
  const took = { [REAL]: [], [UNKNOWN]: [] }
  for (let i = 0; i < 5; i++) {
    for (const login of [REAL, UNKNOWN]) {
      const c = await sspr.beginReset(login)
      const started = performance.now()
      await sspr.sendPin(c.flowId, 'email')
      took[login].push(performance.now() - started)
    }
  }
  await sspr.flushDeliveries()
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const gap = Math.abs(median(took[REAL]) - median(took[UNKNOWN]))
  assert.ok(gap < 50, `medians differ by ${gap.toFixed(1)} ms: ${JSON.stringify(took)}`)
  assert.equal(sent.filter((n) => n.kind === 'pin').length, 5, 'every real PIN was delivered')
})
