// changePassword and passwordRules through the Node API (the rules are the engine's; this
// checks that they reach JavaScript whole: the typed refusal, one answer for an unknown login
// and a wrong password, the notice).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setup, enroll, rejection } from './helpers.mjs'

test('a change, then only the new password signs in, and the contacts are told', async () => {
  const t = setup()
  await enroll(t.sspr)
  assert.equal(await t.sspr.changePassword('jdoe@example.org', 'Old-Passw0rd!x', 'Fresh-Meadow-41'), undefined)
  assert.equal((await t.sspr.signIn('jdoe@example.org', 'Fresh-Meadow-41')).mustChange, false)
  assert.equal((await rejection(t.sspr.signIn('jdoe@example.org', 'Old-Passw0rd!x'))).code, 'SIGN_IN_FAILED')
  assert.deepEqual(t.outbox.messagesTo('jane@home.example').map((n) => n.kind), ['password_changed'])
  assert.ok(t.audit.events().some((e) => e.kind === 'password_changed'))
})

test('an unknown login, a wrong password and a privileged account get one answer', async () => {
  const t = setup()
  const answers = []
  for (const [login, current] of [
    ['jdoe@example.org', 'Wrong-Passw0rd!'],
    ['nobody@example.org', 'Old-Passw0rd!x'],
    ['boss@example.org', 'anything'],
  ]) {
    const e = await rejection(t.sspr.changePassword(login, current, 'Fresh-Meadow-41'))
    answers.push(`${e.code} ${e.message}`)
  }
  assert.equal(new Set(answers).size, 1)
  assert.match(answers[0], /^SIGN_IN_FAILED /)
})

test('a refused new password names its rule, and the rules are read', async () => {
  const t = setup({ policy: { chosenPasswordMinLength: 12 } })
  for (const [next, refusal] of [
    ['Sh0rt!', 'too_short'],
    ['Old-Passw0rd!x', 'in_history'],
    ['aaaaaaaaaaaa', 'too_simple'],
  ]) {
    const e = await rejection(t.sspr.changePassword('jdoe@example.org', 'Old-Passw0rd!x', next))
    assert.deepEqual([e.code, e.refusal], ['PASSWORD_REJECTED', refusal], next)
    assert.ok(!e.message.includes(next))
  }
  assert.deepEqual(await t.sspr.passwordRules(), { minLength: 12, historyLength: 5, complexity: true, minAgeSecs: null })
  const wrongType = await rejection(t.sspr.changePassword('jdoe@example.org', 42, 'Fresh-Meadow-41'))
  assert.deepEqual([wrongType.code, wrongType.field], ['INVALID_INPUT', 'current'])
})
