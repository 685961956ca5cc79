// Helpdesk recovery (issue 14.5): an administrator issues a one-time code (shown once,
// redacted everywhere but reveal()) or sends one to the user's registered contact; the user
// redeems it to the verified step and completes the reset.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { HelpdeskCode } from '../index.js'
import { ADMIN, USER, setup, enroll, rejection } from './helpers.mjs'

const wrongOf = (code) => [...code].map((c) => (c === '9' ? '0' : String(Number(c) + 1))).join('')

test('a shown recovery code redeems once and completes the reset', async () => {
  const t = setup()
  const notAdmin = await rejection(t.sspr.adminRecovery(USER, 'rroe@example.org'))
  assert.deepEqual([notAdmin.code, notAdmin.reason], ['NOT_ALLOWED', 'admin_only'])
  const privileged = await rejection(t.sspr.adminRecovery(ADMIN, 'boss@example.org'))
  assert.deepEqual([privileged.code, privileged.reason], ['NOT_ALLOWED', 'privileged'])
  const notEnabled = await rejection(t.sspr.adminRecovery(ADMIN, 'rroe@example.org'))
  assert.deepEqual([notEnabled.code, notEnabled.reason], ['NOT_ALLOWED', 'not_enabled'])
  await t.sspr.setEnabled(ADMIN, 'rroe@example.org', true)

  const issued = await t.sspr.adminRecovery(ADMIN, 'rroe@example.org')
  assert.ok(issued.code instanceof HelpdeskCode)
  const code = issued.code.reveal()
  assert.match(code, /^\d{10}$/)
  assert.ok(issued.expiresAt instanceof Date)
  for (const shown of [String(issued.code), JSON.stringify(issued), util.inspect(issued)]) {
    assert.ok(!shown.includes(code), `the code leaks: ${shown}`)
  }
  const malformed = await rejection(t.sspr.redeemRecoveryCode('rroe@example.org', '12'))
  assert.deepEqual([malformed.code, malformed.field], ['INVALID_INPUT', 'code'])
  const wrong = await rejection(t.sspr.redeemRecoveryCode('rroe@example.org', wrongOf(code)))
  assert.deepEqual([wrong.code, wrong.attemptsLeft], ['WRONG_PIN', 0])
  assert.ok(!wrong.message.includes(code))
  const stranger = await rejection(t.sspr.redeemRecoveryCode('nobody@example.org', code))
  assert.deepEqual([stranger.code, stranger.attemptsLeft], ['WRONG_PIN', 0])

  const recovered = await t.sspr.redeemRecoveryCode('rroe@example.org', code)
  assert.deepEqual(recovered.modes, ['temporary', 'unlock_only'])
  const outcome = await t.sspr.completeReset(recovered.flowId)
  assert.ok(outcome.temporaryPassword)
  const again = await rejection(t.sspr.redeemRecoveryCode('rroe@example.org', code))
  assert.equal(again.code, 'WRONG_PIN')
  const audit = JSON.stringify(t.audit.events())
  assert.ok(!audit.includes(code), 'the code is in no audit event')
  const kinds = t.audit.events().map((e) => e.kind)
  assert.ok(kinds.includes('recovery_issued') && kinds.includes('recovery_redeemed'), kinds.join())
})

test('a recovery code sent to the registered contact', async () => {
  const t = setup()
  await enroll(t.sspr)
  const noPhone = await rejection(t.sspr.adminSendRecoveryCode(ADMIN, 'jdoe@example.org', 'sms'))
  assert.deepEqual([noPhone.code, noPhone.field], ['INVALID_INPUT', 'channel'])
  const sent = await t.sspr.adminSendRecoveryCode(ADMIN, 'jdoe@example.org', 'email')
  assert.deepEqual([sent.channel, sent.masked], ['email', 'j***@h***.example'])
  await t.sspr.flushDeliveries()
  const [notice] = t.outbox.messagesTo('jane@home.example').filter((n) => n.kind === 'recovery_code')
  assert.ok(notice, 'the code went to the registered address')
  assert.match(notice.pin, /^\d{10}$/)
  assert.ok(!JSON.stringify(sent).includes(notice.pin))
  const recovered = await t.sspr.redeemRecoveryCode('jdoe@example.org', notice.pin)
  await t.sspr.completeReset(recovered.flowId)
})
