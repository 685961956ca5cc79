// Concurrency, hostile input, secrets that never print, and a process that exits by itself.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import util from 'node:util'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Sspr, SsprError, SqliteStore } from '../index.js'
import { ADMIN, KEY, setup, enroll, pinSent, rejection } from './helpers.mjs'

async function raceVerify(t, racers = 100) {
  await enroll(t.sspr)
  const flow = await pinSent(t)
  const results = await Promise.allSettled(Array.from({ length: racers }, () => t.sspr.verifyPin(flow.flowId, flow.pin)))
  const won = results.filter((r) => r.status === 'fulfilled')
  assert.equal(won.length, 1, `exactly one of ${racers} concurrent verifyPin succeeds`)
  for (const r of results.filter((r) => r.status === 'rejected')) {
    assert.ok(r.reason instanceof SsprError, String(r.reason))
    assert.ok(['ALREADY_USED', 'INVALID_STATE'].includes(r.reason.code), r.reason.code)
  }
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => t.sspr.completeReset(flow.flowId)))
  assert.equal(outcomes.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one completeReset succeeds')
}

test('100 concurrent verifyPin on one flow: one success (in-memory store)', () => raceVerify(setup()))

// Really concurrent, every submission is counted as an attempt before its PIN is compared
// (issue 11 item 3): 40 racers under caps lifted to 50 (per client) and 100 (per user), with
// delays from the 50th, so the race is only about the one winner.
test('40 concurrent verifyPin on one flow: one success (SQLite store, really concurrent)', () => {
  const db = new SqliteStore()
  const policy = { clientFailuresBeforeBlock: 50, userFailuresBeforeBlock: 100, failuresBeforeDelay: 50 }
  return raceVerify(setup({ store: db, contacts: db, policy }), 40)
})

test('hostile input is refused with INVALID_INPUT and changes nothing', async () => {
  const t = setup()
  await enroll(t.sspr)
  const before = t.audit.events().length
  const hostile = [
    '',
    ' ',
    '\u0000',
    'jdoe@example.org\u0000',
    'a'.repeat(257),
    'x'.repeat(1_000_000),
    '\u202ejdoe@example.org',
    'jdoe\u200b@example.org',
    'ja\u0301ne\u0007@example.org',
  ]
  for (const login of hostile) {
    const e = await rejection(t.sspr.beginReset(login))
    assert.deepEqual([e.code, e.field], ['INVALID_INPUT', 'login'], JSON.stringify(login.slice(0, 20)))
  }
  for (const bad of [null, undefined, 7, {}, [], Symbol('x'), () => 'jdoe@example.org', 10n]) {
    const e = await rejection(t.sspr.beginReset(bad))
    assert.deepEqual([e.code, e.field], ['INVALID_INPUT', 'login'], String(typeof bad))
  }
  // Injection characters in a well-formed login are just an unknown login (a decoy answer).
  for (const login of ['*)(uid=*))(|(uid=*', "admin'--@example.org", 'jdoe@example.org)(objectClass=*']) {
    const challenge = await t.sspr.beginReset(login)
    assert.equal(challenge.methods.length, 1)
  }
  // PINs and flow ids of every shape.
  const flow = await pinSent(t)
  for (const pin of ['', 'x'.repeat(100_000), '1234567\u0000', '١٢٣٤٥٦٧٨', '12345678 OR 1=1']) {
    const e = await rejection(t.sspr.verifyPin(flow.flowId, pin))
    assert.ok(['WRONG_PIN', 'INVALID_INPUT'].includes(e.code), e.code)
  }
  for (const id of ['', '../../etc/passwd', 'A'.repeat(32), '0'.repeat(33), 42]) {
    const e = await rejection(t.sspr.verifyPin(id, '12345678'))
    assert.deepEqual([e.code, e.field], ['INVALID_INPUT', 'flow_id'])
  }
  const update = await rejection(t.sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'a@b.c\r\nBcc: evil@x.org' }))
  assert.equal(update.code, 'INVALID_INPUT')
  assert.equal((await t.sspr.contacts('jdoe@example.org')).email.value, 'jane@home.example')
  assert.ok(t.audit.events().length > before)
})

test('a field of the wrong type is INVALID_INPUT naming it, never echoing the value, and changes nothing', async () => {
  const t = setup({ policy: { allowChosenPassword: true } })
  await enroll(t.sspr)
  const flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  const secret = 'MySecret-Passw0rd-42'
  // What a request body parser or a careless host hands over instead of a string.
  for (const password of [[secret], new String(secret), Buffer.from(secret), { value: secret }, 42, null]) {
    const e = await rejection(t.sspr.completeReset(flow.flowId, { mode: 'chosen', password }))
    assert.ok(e instanceof SsprError, `${util.inspect(password)}: ${e}`)
    assert.deepEqual([e.code, e.field, e.status, e.answerCode], ['INVALID_INPUT', 'password', 400, 'invalid_input'])
    assert.deepEqual(e.answerFields, { field: 'password' })
    for (const shown of [e.message, e.stack, util.inspect(e), JSON.stringify(e)]) {
      assert.ok(!shown.includes(secret) && !shown.includes('77,121,83'), `the value leaked: ${shown}`)
    }
  }
  const fields = [
    [() => t.sspr.completeReset(flow.flowId, { mode: 7 }), 'mode'],
    [() => t.sspr.beginReset('jdoe@example.org', { clientIp: ['10.0.0.1'] }), 'clientIp'],
    [() => t.sspr.beginReset('jdoe@example.org', { locale: 5 }), 'locale'],
    [() => t.sspr.beginReset('jdoe@example.org', { acceptLanguage: {} }), 'acceptLanguage'],
    [() => t.sspr.setEnabled({ id: 'x' }, 'jdoe@example.org', false), 'type'],
    [() => t.sspr.setEnabled(7, 'jdoe@example.org', false), 'type'],
    [() => t.sspr.setEnabled(null, 'jdoe@example.org', false), 'argument'],
    [() => t.sspr.setEnabled(ADMIN, 'jdoe@example.org', 'no'), 'argument'],
    [() => t.sspr.searchUsers('j', '50'), 'limit'],
    [() => t.sspr.enrollmentReport(ADMIN, { ous: 'ou=staff' }), 'ous'],
  ]
  for (const [call, field] of fields) {
    const e = await rejection(call())
    assert.ok(e instanceof SsprError, `${field}: ${e}`)
    assert.deepEqual([e.code, e.field], ['INVALID_INPUT', field])
  }
  // Options of the engine: one checker where a list belongs, a flag given as text.
  const options = { directory: t.directory, notifier: t.outbox, secretKey: KEY }
  for (const [extra, field] of [
    [{ passwordCheckers: { check: () => null } }, 'passwordCheckers'],
    [{ metrics: 'yes' }, 'metrics'],
  ]) {
    assert.throws(
      () => new Sspr({ ...options, ...extra }),
      (e) => e instanceof SsprError && e.code === 'INVALID_INPUT' && e.field === field,
      JSON.stringify(Object.keys(extra)),
    )
  }
  // Nothing changed: the flow is still verified, the user still enabled.
  assert.equal((await t.sspr.status('jdoe@example.org')).enabled, true)
  assert.ok((await t.sspr.completeReset(flow.flowId)).temporaryPassword)
})

test('no PIN or password in any string, JSON or inspect output', async () => {
  const t = setup({ policy: { allowChosenPassword: true } })
  await enroll(t.sspr)
  const seen = []
  const keep = (v) => {
    seen.push(String(v), JSON.stringify(v) ?? '', util.inspect(v, { depth: 10, showHidden: true }))
    if (v instanceof Error) seen.push(v.stack ?? '', v.message)
  }
  let flow = await pinSent(t)
  const wrong = flow.pin === '00000000' ? '11111111' : '00000000'
  keep(await rejection(t.sspr.verifyPin(flow.flowId, wrong)))
  const verified = await t.sspr.verifyPin(flow.flowId, flow.pin)
  keep(verified)
  const outcome = await t.sspr.completeReset(flow.flowId)
  const temporary = outcome.temporaryPassword
  const password = temporary.reveal()
  keep(outcome)
  keep(temporary)
  seen.push(`${temporary}`, temporary + '', String([temporary]), util.format('%s %o %j', temporary, temporary, temporary))
  assert.equal(String(temporary), '[REDACTED]')
  assert.equal(JSON.stringify({ p: temporary }), '{"p":"[REDACTED]"}')
  assert.equal(util.inspect(temporary), 'TemporaryPassword [REDACTED]')
  // A chosen password refused by the policy: the error does not echo it.
  t.clock.advance(3600)
  flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  const chosen = 'jdoe-Password-1'
  keep(await rejection(t.sspr.completeReset(flow.flowId, { mode: 'chosen', password: chosen })))
  keep(t.sspr)
  keep(await t.sspr.status('jdoe@example.org'))
  for (const event of t.audit.events()) keep(event)
  const all = seen.join('\n')
  for (const secret of [flow.pin, wrong, password, chosen, KEY]) {
    assert.ok(!all.includes(secret), `a secret leaked: ${secret.slice(0, 3)}...`)
  }
})

test('the process exits by itself: a long-lived Sspr with JavaScript backends keeps nothing alive', () => {
  const script = fileURLToPath(new URL('./fixtures/idle.mjs', import.meta.url))
  const started = Date.now()
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.error, undefined, 'the child did not exit on its own within 20 s')
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /flow done/)
  assert.ok(Date.now() - started < 20_000)
})

test('with in-memory backends and padding off every operation answers at once, without a thread hop', async () => {
  const { createRequire } = await import('node:module')
  const native = createRequire(import.meta.url)('../native.js')
  const { MemoryDirectory, Outbox, MemoryStateStore } = await import('../index.js')
  const outbox = new Outbox()
  const s = new native.NativeSspr({
    directory: new MemoryDirectory([{ login: 'jdoe@example.org', displayName: 'Jane Doe', dn: 'uid=jdoe' }]),
    notifier: outbox,
    store: new MemoryStateStore(),
    secretKey: KEY,
    // The default policy pads anonymous answers on the runtime's timer: those wait by design.
    policy: native.Policy.fromJson('{"min_response_ms": 0}'),
  })
  const now = (value) => {
    assert.ok(!(value instanceof Promise), 'answered with a Promise: the call went through the runtime')
    return value
  }
  now(s.setEnabled(ADMIN, 'jdoe@example.org', true))
  now(s.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' }))
  const c = now(s.beginReset('jdoe@example.org'))
  now(s.sendPin(c.flowId, 'email'))
  now(s.verifyPin(c.flowId, outbox.lastPinTo('jane@home.example')))
  assert.equal(now(s.completeReset(c.flowId)).mustChange, true)
  // A JavaScript backend makes the engine wait: then the answer is a Promise.
  const js = new native.NativeSspr({
    directory: { findUser: async () => null, setPassword() {}, unlock() {}, authenticate() {}, search() {} },
    notifier: outbox,
    secretKey: KEY,
  })
  const pending = js.beginReset('jdoe@example.org')
  assert.ok(pending instanceof Promise)
  assert.equal((await pending).methods.length, 1)
})

test('a misspelt option of new Sspr is CONFIG naming it, not silently left out', async () => {
  const { MemoryDirectory, Outbox, backends } = await import('../index.js')
  const base = { directory: new MemoryDirectory([]), notifier: new Outbox(), secretKey: KEY }
  // Each would have built an engine without what the host asked for: its policy, its hooks (a
  // reset that should end the user's sessions), its breached-password check, its audit sink.
  for (const typo of ['polciy', 'hook', 'passwordChecker', 'auditSink', 'secret_key']) {
    assert.throws(
      () => new Sspr({ ...base, [typo]: {} }),
      (err) => err instanceof SsprError && err.code === 'CONFIG' && err.message.includes(`\`${typo}\``),
    )
  }
  // What backends.fromConfig answers besides the engine's slots (README: `new Sspr({ ...b, secretKey })`).
  const b = await backends.fromConfig({})
  assert.ok(new Sspr({ ...b, secretKey: KEY }))
  assert.ok(new Sspr({ ...base, policy: { pinLength: 6 }, hooks: {}, passwordCheckers: [], metrics: false, rngSeed: undefined }))
  // Every option the typings declare is one new Sspr reads (backendTimeoutMs was refused as a typo
  // once the two lists were written apart).
  const dts = fs.readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const body = dts.slice(dts.indexOf('export interface SsprOptions {'))
  const declared = [...body.slice(0, body.indexOf('\n}')).matchAll(/^  ([a-zA-Z]+)\??:/gm)].map((m) => m[1])
  assert.ok(declared.includes('backendTimeoutMs') && declared.length > 10, declared.join(', '))
  for (const option of declared) {
    assert.doesNotThrow(
      () => {
        try {
          new Sspr({ ...base, [option]: base[option] })
        } catch (err) {
          if (err instanceof SsprError && err.message.includes('unknown option')) throw err
        }
      },
      option,
    )
  }
})

test("exportTraces' bad options are INVALID_INPUT naming the field, like every other call's, and a misspelt one CONFIG", async () => {
  const { exportTraces } = await import('../index.js')
  // A misspelt option is CONFIG naming it, as every options object's unknown key (new Sspr, ssprRouter).
  assert.throws(
    () => exportTraces({ endpont: 'http://127.0.0.1:4318/v1/traces' }),
    (err) => err instanceof SsprError && err.code === 'CONFIG' && err.message.includes('`endpont`'),
  )
  const cases = [
    [{ endpoint: 42 }, 'endpoint'],
    [{ endpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: '0.5' }, 'sampleRatio'],
  ]
  for (const [options, field] of cases) {
    assert.throws(
      () => exportTraces(options),
      (err) => err instanceof SsprError && err.code === 'INVALID_INPUT' && err.field === field,
      JSON.stringify(options),
    )
  }
  assert.throws(() => exportTraces(), (err) => err instanceof SsprError && err.code === 'INVALID_INPUT')
})

test('an all-zero secret key is CONFIG, not a key everyone knows', async () => {
  const { MemoryDirectory, Outbox } = await import('../index.js')
  // A zeroed buffer, or an unset variable padded with zeros.
  for (const secretKey of ['00'.repeat(32), Buffer.alloc(32)]) {
    assert.throws(
      () => new Sspr({ directory: new MemoryDirectory([]), notifier: new Outbox(), secretKey }),
      (err) => err instanceof SsprError && err.code === 'CONFIG' && err.message.includes('all zero'),
    )
  }
})

// R.21: the Node twin of R.13. napi reads a `u32` by ToUint32, so -1, 1.5, NaN and 2**32 + 30
// became other numbers (-1 the largest search, 2**32 + 30 thirty days) where the package promises
// INVALID_INPUT naming the argument for a bad one.
test('R.21: a count that is no whole number in range is INVALID_INPUT naming it, never wrapped', async () => {
  const t = setup({ policy: { registrationUrl: 'https://sspr.example.org/register' } })
  await enroll(t.sspr)
  const taken = []
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 32, 2 ** 32 + 30]) {
    for (const [call, fields] of [
      [() => t.sspr.searchUsers('example.org', bad), ['limit']],
      [() => t.sspr.enrollmentReport(ADMIN, { staleAfterDays: bad }), ['staleAfterDays', 'stale_after_days']],
      [() => t.sspr.sendRegistrationReminders(ADMIN, { staleAfterDays: bad }), ['staleAfterDays', 'stale_after_days']],
    ]) {
      let e
      try {
        const answer = await call()
        taken.push(`${fields[0]}=${bad} answered ${util.inspect(answer, { depth: 0, breakLength: Infinity }).slice(0, 60)}`)
        continue
      } catch (thrown) {
        e = thrown
      }
      if (!(e instanceof SsprError) || e.code !== 'INVALID_INPUT' || !fields.includes(e.field)) {
        taken.push(`${fields[0]}=${bad} threw ${e?.code} ${e?.field} ${e?.message}`)
      }
    }
  }
  assert.deepEqual(taken, [], 'a bad count was read as another number')
  // Nothing was sent: no reminder went out for a wrapped count.
  await t.sspr.flushDeliveries()
  assert.deepEqual(t.outbox.messages().filter((n) => n.kind === 'registration_reminder'), [])
})
