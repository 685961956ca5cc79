// Event hooks (`hooks: { resetCompleted: fn }`) and admin alerts: a hook hears the events it
// subscribed to with the audit event, sync or async; a throwing hook never breaks the reset
// and is audited; security notices reach the policy's adminAlertAddresses once per interval.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { enroll, pinSent, setup } from './helpers.mjs'

const JDOE = 'uid=jdoe,ou=staff,dc=example,dc=org'

async function reset(t) {
  const { flowId, pin } = await pinSent(t)
  await t.sspr.verifyPin(flowId, pin)
  const outcome = await t.sspr.completeReset(flowId)
  await t.sspr.flushDeliveries()
  return { password: outcome.temporaryPassword.reveal(), pin }
}

test('a hook hears only its events, with the audit event and no secret', async () => {
  const heard = []
  const t = setup({ hooks: { resetCompleted: (event, audit) => heard.push([event, audit]) } })
  await enroll(t.sspr)
  assert.deepEqual(heard, [], 'contacts_changed was not subscribed to')
  const { password, pin } = await reset(t)
  assert.deepEqual(heard.map(([event]) => event), ['reset_completed'])
  assert.equal(heard[0][1].kind, 'reset_completed')
  assert.equal(heard[0][1].user_id, JDOE)
  const seen = JSON.stringify(heard)
  assert.ok(!seen.includes(password) && !seen.includes(pin), 'no secret reaches a hook')
})

test('an async hook in snake_case is awaited', async () => {
  const heard = []
  const t = setup({
    hooks: {
      contacts_changed: async (event, audit) => {
        await new Promise((resolve) => setImmediate(resolve))
        heard.push(audit.user_id)
      },
    },
  })
  await enroll(t.sspr)
  await t.sspr.flushDeliveries()
  assert.deepEqual(heard, [JDOE])
})

test('a throwing hook never breaks the reset and its failure is audited', async () => {
  const t = setup({
    hooks: {
      resetCompleted: async () => {
        throw new Error('the session service is down')
      },
    },
  })
  await enroll(t.sspr)
  const { password } = await reset(t)
  assert.ok(t.directory.passwordMatches(JDOE, password))
  const failed = t.audit.events().filter((e) => e.kind === 'hook_failed')
  assert.equal(failed.length, 1)
  assert.match(failed[0].outcome.error, /reset_completed.*session service is down/)
})

test('hooks given as a class instance or a Map are refused, not an engine whose hooks never run', async () => {
  // On main both built an engine with no hook at all (Object.entries sees neither a class's
  // methods nor a Map's entries): a host ending the user's sessions on reset_completed never did.
  const heard = []
  class SessionHooks {
    resetCompleted(event) {
      heard.push(event)
    }
  }
  for (const hooks of [new SessionHooks(), new Map([['resetCompleted', (event) => heard.push(event)]])]) {
    assert.throws(
      () => setup({ hooks }),
      (e) => e.code === 'INVALID_INPUT' && e.field === 'hooks' && /plain object/.test(e.message),
      hooks.constructor.name,
    )
  }
  // A plain object, or one without a prototype, is read as before.
  const bare = Object.assign(Object.create(null), { resetCompleted: (event) => heard.push(event) })
  const t = setup({ hooks: bare })
  await enroll(t.sspr)
  await reset(t)
  assert.deepEqual(heard, ['reset_completed'])
})

test('hooks are checked when the engine is built', () => {
  assert.throws(() => setup({ hooks: { resetDone: () => {} } }), (e) => e.code === 'INVALID_INPUT' && e.field === 'event')
  assert.throws(() => setup({ hooks: { resetCompleted: 'not a function' } }), (e) => e.code === 'INVALID_INPUT' && e.field === 'hooks')
})

test('a privileged attempt alerts the admins once per interval', async () => {
  const heard = []
  const t = setup({
    policy: { adminAlertAddresses: ['secops@example.org'] },
    hooks: { privilegedAttemptRefused: (event) => heard.push(event) },
  })
  for (let n = 0; n < 5; n++) await t.sspr.beginReset('boss@example.org', { clientIp: `198.51.100.${n}` })
  await t.sspr.flushDeliveries()
  assert.equal(heard.length, 5)
  const alerts = t.outbox.messagesTo('secops@example.org')
  assert.deepEqual(alerts.map((a) => a.kind), ['admin_alert'])
  assert.match(alerts[0].body, /privileged account uid=boss,ou=staff,dc=example,dc=org/)
  assert.match(alerts[0].body, /held back for 60 minutes/)
})
