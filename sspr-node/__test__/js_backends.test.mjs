// Backends written in JavaScript: plain objects and class instances, sync and async methods;
// a throw or a rejection is a BACKEND error with the thrown value as `cause`, never a crash.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { spawnSync } from 'node:child_process'
import { Sspr, SsprError, BackendError, ManualClock, MemoryContactStore, MemoryStateStore } from '../index.js'
import { ADMIN, KEY, START, USER, USERS, rejection } from './helpers.mjs'

/** A directory as a class: its methods use `this` (index.js binds them). */
class ClassDirectory {
  constructor(async) {
    this.async = async
    this.users = new Map(USERS.map((u) => [u.login, { id: u.dn, login: u.login, displayName: u.displayName, dn: u.dn, groups: u.groups ?? [] }]))
    this.passwords = new Map(USERS.filter((u) => u.password).map((u) => [u.dn, { password: u.password, mustChange: false }]))
    this.calls = []
  }
  answer(value) {
    return this.async ? new Promise((resolve) => setImmediate(() => resolve(value))) : value
  }
  findUser(login) {
    this.calls.push('findUser')
    return this.answer(this.users.get(login) ?? null)
  }
  setPassword(id, password, mustChange) {
    this.calls.push('setPassword')
    if (password.length < 8) throw new BackendError('password_rejected', 'too short')
    this.passwords.set(id, { password, mustChange })
    return this.answer(true) // a value where none is expected is ignored
  }
  unlock(id) {
    this.calls.push('unlock')
    return this.answer(undefined)
  }
  authenticate(id, password) {
    const entry = this.passwords.get(id)
    if (!entry || entry.password !== password) return this.answer('rejected')
    return this.answer(entry.mustChange ? 'must_change' : 'accepted')
  }
  search(query, limit) {
    const q = query.toLowerCase()
    return this.answer([...this.users.values()].filter((u) => u.login.includes(q) || u.displayName.toLowerCase().includes(q)).slice(0, limit))
  }
}

/** A contact store as a plain object with async methods (compare-and-set on a version). */
function objectContacts() {
  const records = new Map()
  return {
    records,
    async get(userId) {
      return records.get(userId) ?? null
    },
    async save(userId, enrollment, expectedVersion) {
      const current = records.get(userId)?.version ?? 0
      if (current !== expectedVersion) return false
      records.set(userId, { ...enrollment, version: expectedVersion + 1 })
      return true
    },
  }
}

function objectNotifier() {
  const sent = []
  return { sent, send: (n) => void sent.push(n) }
}

async function wholeFlow(async) {
  const directory = new ClassDirectory(async)
  const contacts = objectContacts()
  const notifier = objectNotifier()
  const events = []
  const audit = { record: async (event) => void events.push(event) }
  const sspr = new Sspr({ directory, contacts, notifier, audit, store: new MemoryStateStore(), clock: new ManualClock(START), secretKey: KEY })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const stored = contacts.records.get('uid=jdoe,ou=staff,dc=example,dc=org')
  assert.equal(stored.email.value, 'jane@home.example')
  assert.ok(stored.email.usableFrom instanceof Date)
  const challenge = await sspr.beginReset('jdoe@example.org')
  await sspr.sendPin(challenge.flowId, 'email')
  await sspr.flushDeliveries() // a JavaScript notifier is called off the request path
  const pinNotice = notifier.sent.find((n) => n.kind === 'pin')
  assert.equal(pinNotice.to, 'jane@home.example')
  await sspr.verifyPin(challenge.flowId, pinNotice.pin)
  const outcome = await sspr.completeReset(challenge.flowId)
  const password = outcome.temporaryPassword.reveal()
  assert.deepEqual(directory.passwords.get('uid=jdoe,ou=staff,dc=example,dc=org'), { password, mustChange: true })
  await sspr.flushDeliveries() // the notice too leaves the request path
  assert.ok(notifier.sent.some((n) => n.kind === 'password_reset'))
  assert.ok(events.some((e) => e.kind === 'reset_completed' && e.user_id === 'uid=jdoe,ou=staff,dc=example,dc=org'))
  assert.equal((await sspr.signIn('jdoe@example.org', password)).mustChange, true)
  assert.deepEqual((await sspr.searchUsers('roe', 5)).map((u) => u.login), ['rroe@example.org'])
  assert.equal((await sspr.status('jdoe@example.org')).enabled, true)
}

// The enrollment's history (opaque JSON text) must survive a JavaScript store: without it a
// phisher who clears every contact would register the next one without the cooling-off.
test('a JavaScript contact store carries the history: clearing every contact does not skip the cooling-off', async () => {
  const contacts = objectContacts()
  const clock = new ManualClock(START)
  const notifier = objectNotifier()
  const sspr = new Sspr({ directory: new ClassDirectory(false), contacts, notifier, store: new MemoryStateStore(), clock, secretKey: KEY })
  // A user's new address is saved once the code sent to it (here, to the JS notifier) is typed back.
  const prove = async (address) => {
    const proof = await sspr.requestContactProof(USER, 'jdoe@example.org', 'email', address)
    await sspr.flushDeliveries()
    const sent = notifier.sent.filter((n) => n.to === address && n.kind === 'contact_proof').at(-1)
    return sspr.confirmContactProof(USER, 'jdoe@example.org', proof.proofId, sent.pin)
  }
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  let view = await prove('jane@home.example')
  assert.equal(view.email.usableFrom.getTime(), START.getTime(), 'the first registration is usable at once')
  await sspr.updateContacts(USER, 'jdoe@example.org', { email: null })
  const stored = contacts.records.get('uid=jdoe,ou=staff,dc=example,dc=org')
  assert.equal(typeof stored.history, 'string')
  assert.ok(JSON.parse(stored.history).registered_at, 'the store was handed the first registration')
  view = await prove('phisher@evil.example')
  assert.equal(view.email.usableFrom.getTime(), START.getTime() + 86_400_000)
})

test('a whole flow with sync JavaScript backends', () => wholeFlow(false))
test('a whole flow with async JavaScript backends', () => wholeFlow(true))

test('a throwing or rejecting backend is a BACKEND error with the thrown value as cause', async () => {
  const boom = new Error('directory unreachable')
  const variants = {
    throws: () => {
      throw boom
    },
    rejects: async () => {
      throw boom
    },
  }
  for (const [how, findUser] of Object.entries(variants)) {
    const directory = { ...new ClassDirectory(false), findUser }
    directory.setPassword = () => {}
    directory.unlock = () => {}
    directory.authenticate = () => 'rejected'
    directory.search = () => []
    const sspr = new Sspr({ directory, notifier: objectNotifier(), secretKey: KEY })
    const e = await rejection(sspr.status('jdoe@example.org'))
    assert.ok(e instanceof SsprError, how)
    assert.equal(e.code, 'BACKEND', how)
    assert.equal(e.backendKind, 'other')
    assert.equal(e.cause, boom, `${how}: the cause is what the backend threw`)
    assert.match(e.message, /directory unreachable/)
  }
  // A BackendError names the kind the engine acts on; a thrown non-Error is kept too.
  const unavailable = new BackendError('unavailable', 'ldap is down')
  const sspr = new Sspr({
    directory: { ...new ClassDirectory(false), findUser: async () => Promise.reject(unavailable), setPassword() {}, unlock() {}, authenticate() {}, search() {} },
    notifier: objectNotifier(),
    secretKey: KEY,
  })
  const e = await rejection(sspr.status('jdoe@example.org'))
  assert.deepEqual([e.code, e.backendKind], ['BACKEND', 'unavailable'])
  assert.equal(e.cause, unavailable)
  // The anonymous reset stays up: a failing directory is BACKEND, not a decoy or a crash.
  assert.equal((await rejection(sspr.beginReset('jdoe@example.org'))).code, 'BACKEND')
})

test("a JavaScript notifier's error quoting the message puts no PIN or address in the audit trail", async () => {
  // What an HTTP SMS/mail API's client throws: the request it refused, message and recipient included.
  const pins = []
  const notifier = {
    send: async (n) => {
      if (n.pin) pins.push(n.pin)
      throw new Error(`gateway refused ${JSON.stringify(n)}`)
    },
  }
  const events = []
  const sspr = new Sspr({ directory: new ClassDirectory(false), notifier, audit: { record: (e) => void events.push(e) }, secretKey: KEY, policy: { minResponseMs: 0 } })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const challenge = await sspr.beginReset('jdoe@example.org')
  await sspr.sendPin(challenge.flowId, 'email')
  await sspr.flushDeliveries()
  assert.equal(pins.length, 1, 'the notifier was handed the PIN')
  const failed = events.filter((e) => e.kind === 'pin_sent' && e.outcome?.result === 'failed')
  assert.equal(failed.length, 1, JSON.stringify(events.map((e) => e.kind)))
  const trail = JSON.stringify(events)
  assert.match(trail, /gateway refused/, 'the failure is still described')
  assert.ok(!trail.includes(pins[0]), `the PIN reached the audit trail: ${trail}`)
  assert.ok(!trail.includes('jane@home.example'), `the full address reached the audit trail: ${trail}`)
})

test('a backend answering the wrong type is a BACKEND error', async () => {
  const directory = new ClassDirectory(false)
  directory.findUser = () => 42
  const sspr = new Sspr({ directory, notifier: objectNotifier(), secretKey: KEY })
  const e = await rejection(sspr.status('jdoe@example.org'))
  assert.deepEqual([e.code, e.backendKind], ['BACKEND', 'rejected'])
})

test('a directory refusing a temporary password: the engine retries, then gives up cleanly', async () => {
  const directory = new ClassDirectory(true)
  let refused = 0
  directory.setPassword = () => {
    refused++
    throw new BackendError('password_rejected', 'does not meet the policy')
  }
  const notifier = objectNotifier()
  const sspr = new Sspr({ directory, notifier, secretKey: KEY })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const challenge = await sspr.beginReset('jdoe@example.org')
  await sspr.sendPin(challenge.flowId, 'email')
  await sspr.verifyPin(challenge.flowId, notifier.sent.find((n) => n.kind === 'pin').pin)
  const e = await rejection(sspr.completeReset(challenge.flowId))
  assert.ok(['PASSWORD_REJECTED', 'BACKEND'].includes(e.code), e.code)
  assert.ok(refused >= 2, `the engine drew again: ${refused}`)
})

test('a backend missing a method is refused at construction', () => {
  assert.throws(
    () => new Sspr({ directory: { findUser() {} }, notifier: objectNotifier(), secretKey: KEY }),
    (e) => e instanceof SsprError && e.code === 'INVALID_INPUT' && e.field === 'directory',
  )
  assert.throws(
    () => new Sspr({ directory: new ClassDirectory(false), notifier: objectNotifier(), store: {}, secretKey: KEY }),
    (e) => e instanceof SsprError && e.field === 'store',
  )
})

test('sync JavaScript backends are called on the calling thread: the PIN is sent when sendPin returns', async () => {
  // Called directly during the engine's first poll on this thread (no threadsafe-function
  // hop through the event loop): a sync notifier has the PIN before sendPin's answer.
  const sent = []
  const sspr = new Sspr({
    directory: new ClassDirectory(false),
    contacts: new MemoryContactStore(),
    notifier: { send: (n) => void sent.push(n) },
    store: new MemoryStateStore(),
    clock: new ManualClock(START),
    policy: { minResponseMs: 0 },
    secretKey: KEY,
  })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const challenge = await sspr.beginReset('jdoe@example.org')
  await sspr.sendPin(challenge.flowId, 'email')
  assert.equal(sent.filter((n) => n.kind === 'pin').length, 1, 'the PIN notice was delivered before sendPin returned')
})

// A host notifier that logs what it was given must not write the PIN or the code into the log.
test('a notice given to a JavaScript notifier prints without its PIN or code', async () => {
  const notifier = objectNotifier()
  const contacts = objectContacts()
  const sspr = new Sspr({ directory: new ClassDirectory(false), contacts, notifier, store: new MemoryStateStore(), clock: new ManualClock(START), secretKey: KEY })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const challenge = await sspr.beginReset('jdoe@example.org')
  await sspr.sendPin(challenge.flowId, 'email')
  await sspr.flushDeliveries()
  const notice = notifier.sent.find((n) => n.kind === 'pin')
  assert.match(notice.pin, /^\d{8}$/)
  assert.ok(notice.body.includes(notice.pin), 'the body a notifier delivers holds the PIN')
  for (const shown of [util.inspect(notice), util.format('%o %O', notice, notice), util.inspect([notice], { depth: 5, showHidden: true })]) {
    assert.ok(!shown.includes(notice.pin), shown)
    assert.ok(shown.includes('[REDACTED]') && shown.includes('jane@home.example') && shown.includes("kind: 'pin'"), shown)
  }
  assert.equal(JSON.parse(JSON.stringify(notice)).pin, notice.pin, 'a delivery service given the JSON still gets the PIN')
  assert.deepEqual(Object.keys(notice).sort(), ['at', 'body', 'channel', 'expiresAt', 'kind', 'locale', 'pin', 'subject', 'to'])
})

// R.20: the Node twin of R.12. A JavaScript directory wraps what failed, as Node code does
// (`new Error('samba-tool failed', { cause })`, a thrown plain object, an AggregateError, an own
// property `cmd`/`args` beside a bland message): the chosen password must reach neither the
// SsprError, its `cause` chain, nor anything `util.inspect` prints of it.
test("R.20: a password in what a JavaScript backend's error wraps never reaches the caller", async () => {
  const chosen = 'Tulip-Harbour-Engine-7'
  const wrappers = {
    cause: (pw) => new Error('samba-tool failed', { cause: new Error(`exit 1: samba-tool user setpassword --newpassword=${pw}`) }),
    deepCause: (pw) => new Error('change failed', { cause: new Error('samba-tool failed', { cause: new Error(`--newpassword=${pw}`) }) }),
    ownProperty: (pw) => Object.assign(new Error('Command failed with exit code 1'), { cmd: `samba-tool user setpassword --newpassword=${pw}` }),
    plainObject: (pw) => ({ message: 'refused', args: ['--newpassword', pw] }),
    aggregate: (pw) => new AggregateError([new Error(`bad --newpassword=${pw}`)], 'every controller refused'),
    string: (pw) => `refused --newpassword=${pw}`,
  }
  const leaks = []
  for (const [how, wrap] of Object.entries(wrappers)) {
    const directory = new ClassDirectory(false)
    directory.setPassword = (id, password) => {
      throw wrap(password)
    }
    const notifier = objectNotifier()
    const sspr = new Sspr({ directory, notifier, secretKey: KEY, policy: { minResponseMs: 0, allowChosenPassword: true } })
    await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
    await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
    const challenge = await sspr.beginReset('jdoe@example.org')
    await sspr.sendPin(challenge.flowId, 'email')
    await sspr.flushDeliveries()
    await sspr.verifyPin(challenge.flowId, notifier.sent.find((n) => n.kind === 'pin').pin)
    const e = await rejection(sspr.completeReset(challenge.flowId, { mode: 'chosen', password: chosen }))
    assert.equal(e.code, 'BACKEND', `${how}: ${e}`)
    assert.ok(e instanceof SsprError, `${how}: ${e}`)
    const shown = [util.inspect(e, { depth: 10, showHidden: true }), String(e), e.stack, JSON.stringify(e)].join('\n')
    if (shown.includes(chosen)) leaks.push(`${how}: ${util.inspect(e, { depth: 10 }).split('\n').filter((l) => l.includes(chosen)).join(' | ')}`)
  }
  assert.deepEqual(leaks, [], 'the chosen password reached what a host logs')
  // A wrapped error quoting no secret is still the cause, whole.
  const inner = new Error('ETIMEDOUT dc1.example.org:636')
  const outer = new Error('samba-tool failed', { cause: inner })
  const directory = { ...new ClassDirectory(false), findUser: () => Promise.reject(outer), setPassword() {}, unlock() {}, authenticate() {}, search() {} }
  const e = await rejection(new Sspr({ directory, notifier: objectNotifier(), secretKey: KEY }).status('jdoe@example.org'))
  assert.equal(e.cause, outer)
  assert.equal(e.cause.cause, inner)
  assert.equal(e.message, 'backend failure: Other: directory.findUser: samba-tool failed')
})

// R.22: napi reads the `cause` chain of what a backend threw and converts each link to text; a link
// it cannot convert (a Symbol, an object without a prototype) left a JavaScript exception pending in
// the native callback: a sync call answered INVALID_INPUT (as if the caller's argument were wrong),
// an async one never settled (the engine's deadline ends it 30 s later, or the process exits with the
// call unanswered).
test('R.22: a backend throwing what cannot be printed is BACKEND at once, never a hang or INVALID_INPUT', async () => {
  const hostile = {
    symbol: () => Symbol('refused'),
    symbolCause: () => new Error('refused', { cause: Symbol('why') }),
    nullPrototypeCause: () => new Error('refused', { cause: Object.create(null) }),
    nullPrototype: () => Object.assign(Object.create(null), { reason: 'refused' }),
    throwingMessage: () => Object.defineProperty(new Error('x'), 'message', { get: () => { throw new Error('getter') } }),
    proxy: () => new Proxy({}, { get: () => { throw new Error('trap') }, getPrototypeOf: () => { throw new Error('trap') } }),
    proxyCause: () => new Error('refused', { cause: new Proxy({}, { get: () => { throw new Error('trap') } }) }),
    // A retry wrapper's chain that points back at itself: napi's recursion overflowed the stack and
    // the whole process died (SIGSEGV), sync and async alike. Run in a child process below.
  }
  const wrong = []
  for (const [how, make] of Object.entries(hostile)) {
    for (const mode of ['sync', 'async']) {
      const findUser = mode === 'sync' ? () => { throw make() } : async () => { throw make() }
      const directory = { ...new ClassDirectory(false), findUser, setPassword() {}, unlock() {}, authenticate() {}, search() {} }
      const sspr = new Sspr({ directory, notifier: objectNotifier(), secretKey: KEY, backendTimeoutMs: 20_000 })
      let timer
      const late = new Promise((resolve) => (timer = setTimeout(() => resolve('no answer within 5 s'), 5000)))
      const answer = await Promise.race([sspr.status('jdoe@example.org').then(() => 'resolved', (e) => e), late])
      clearTimeout(timer)
      if (!(answer instanceof SsprError) || answer.code !== 'BACKEND') wrong.push(`${how} (${mode}): ${answer?.code ?? answer} ${answer?.message ?? ''}`)
    }
  }
  assert.deepEqual(wrong, [], 'a hostile thrown value was not answered as a backend failure')
  const script = `
    import { Sspr } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)}
    for (const mode of ['sync', 'async']) {
      const loop = () => { const e = new Error('retry failed'); e.cause = new Error('attempt 1', { cause: e }); return e }
      const findUser = mode === 'sync' ? () => { throw loop() } : async () => { throw loop() }
      const directory = { findUser, setPassword() {}, unlock() {}, authenticate() {}, search() {} }
      const sspr = new Sspr({ directory, notifier: { send() {} }, secretKey: '${KEY}' })
      const e = await sspr.status('jdoe@example.org').catch((e) => e)
      console.log(mode, e.code, e.cause.cause.cause === e.cause)
    }`
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.deepEqual([child.status, child.signal, child.stdout], [0, null, 'sync BACKEND true\nasync BACKEND true\n'], child.stderr)
})
