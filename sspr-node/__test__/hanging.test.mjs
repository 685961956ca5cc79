// A JavaScript backend whose Promise never settles: each call is given up after the engine's
// backend timeout (`backendTimeoutMs`) as a BackendError of kind 'unavailable', so the
// operation rejects with BACKEND instead of never settling, nothing is left half-done, and
// a process whose script is done exits instead of waiting for ever.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Sspr, SsprError, MemoryAuditSink, MemoryDirectory, Outbox } from '../index.js'
import { ADMIN, KEY, USERS } from './helpers.mjs'

const LIMIT_MS = 300
const never = () => new Promise(() => {})

/** `backend` with every method waiting for ever while `hang.on` is set (a switch per test). */
function hanging(backend, hang) {
  const out = {}
  for (const name of Object.getOwnPropertyNames(backend)) {
    if (typeof backend[name] !== 'function') continue
    out[name] = (...args) => (hang.on && (!hang.only || hang.only === name) ? never() : backend[name](...args))
  }
  return out
}

/** A state store over a Map (entries expire by the `now` the engine passes). */
function mapStore() {
  const entries = new Map()
  const live = (key, now) => {
    const entry = entries.get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }
  return {
    get: async (key, now) => {
      const entry = live(key, now)
      return entry && 'value' in entry ? { value: entry.value, version: entry.version } : null
    },
    put: async (key, value, expectedVersion, expiresAt, now) => {
      const current = live(key, now)?.version ?? null
      if (current !== expectedVersion) return null
      const version = (current ?? 0) + 1
      entries.set(key, { value: Buffer.from(value), version, expiresAt })
      return version
    },
    increment: async (key, expiresAt, now) => {
      const entry = live(key, now)
      const counter = entry && 'count' in entry ? { count: entry.count + 1, expiresAt: entry.expiresAt } : { count: 1, expiresAt }
      entries.set(key, counter)
      return { ...counter }
    },
    delete: async (key) => void entries.delete(key),
  }
}

/** A contact store over a Map (compare-and-set on a version). */
function mapContacts() {
  const records = new Map()
  return {
    get: async (id) => records.get(id) ?? null,
    save: async (id, enrollment, expected) => {
      if ((records.get(id)?.version ?? 0) !== expected) return false
      records.set(id, { ...enrollment, version: expected + 1 })
      return true
    },
  }
}

/** A notifier keeping what it sends, and the last PIN sent to an address. */
function jsOutbox() {
  const sent = []
  return {
    send: async (notification) => void sent.push(notification),
    lastPinTo: (address) => sent.filter((n) => n.kind === 'pin' && n.to === address).pop()?.pin ?? null,
  }
}

/** A directory over the test users (passwords kept, so a reset can be checked). */
function jsDirectory() {
  const memory = new MemoryDirectory(USERS)
  const passwords = new Map()
  return {
    passwords,
    findUser: async (login) => {
      const user = memory.users().find((u) => u.login === login)
      return user ? { id: user.id, login: user.login, displayName: user.displayName, dn: user.dn, groups: user.groups } : null
    },
    setPassword: async (id, password) => void passwords.set(id, password),
    unlock: async () => {},
    authenticate: async () => 'rejected',
    search: async () => [],
  }
}

/** An engine on the system clock (the bound needs a timer that really waits), every backend in JavaScript. */
async function world(slot, only) {
  const hang = { on: false, only }
  const directory = jsDirectory()
  const outbox = jsOutbox()
  const backends = { directory, contacts: mapContacts(), store: mapStore(), notifier: outbox }
  const audit = new MemoryAuditSink()
  const sspr = new Sspr({
    ...backends,
    [slot]: hanging(backends[slot], hang),
    audit,
    secretKey: KEY,
    policy: { minResponseMs: 0 },
    backendTimeoutMs: LIMIT_MS,
  })
  await sspr.setEnabled(ADMIN, 'jdoe@example.org', true)
  await sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  return { sspr, hang, outbox, audit, directory }
}

/** A whole reset with every backend answering: proof that the failure left nothing half-done. */
async function resetWorks(w) {
  const { flowId } = await w.sspr.beginReset('jdoe@example.org')
  await w.sspr.sendPin(flowId, 'email')
  await w.sspr.flushDeliveries()
  await w.sspr.verifyPin(flowId, w.outbox.lastPinTo('jane@home.example'))
  const outcome = await w.sspr.completeReset(flowId)
  assert.equal(w.directory.passwords.get(USERS[0].dn), outcome.temporaryPassword.reveal())
}

async function timed(promise) {
  const started = performance.now()
  try {
    await promise
  } catch (e) {
    return { error: e, ms: performance.now() - started }
  }
  throw new Error('expected a rejection')
}

// The engine's call named in the message: a JavaScript store's methods serve the engine's batched calls.
for (const [slot, method, call] of [
  ['directory', 'findUser', 'directory\\.find_user'],
  ['contacts', 'get', 'contacts\\.get'],
  ['store', 'get', 'store\\.\\w+'],
  ['store', 'put', 'store\\.\\w+'],
]) {
  test(`a ${slot}.${method} that never settles rejects beginReset with BACKEND 'unavailable' at the timeout`, { timeout: 10_000 }, async () => {
    const w = await world(slot, method)
    w.hang.on = true
    const { error, ms } = await timed(w.sspr.beginReset('jdoe@example.org'))
    assert.ok(error instanceof SsprError, String(error))
    assert.equal(error.code, 'BACKEND')
    assert.equal(error.backendKind, 'unavailable')
    assert.match(error.message, new RegExp(`${call}: no answer within ${LIMIT_MS} ms`))
    assert.ok(ms >= LIMIT_MS - 5 && ms < LIMIT_MS + 2000, `rejected after ${ms} ms`)
    w.hang.on = false
    await resetWorks(w)
  })
}

test('a notifier send that never settles is given up and retried, and flushDeliveries settles', { timeout: 15_000 }, async () => {
  const w = await world('notifier')
  const { flowId } = await w.sspr.beginReset('jdoe@example.org')
  w.hang.on = true
  await w.sspr.sendPin(flowId, 'email') // answered at once: the delivery runs off the request path
  // The first attempt is given up at the timeout; the retry (2 s later) reaches a notifier that answers.
  setTimeout(() => (w.hang.on = false), LIMIT_MS + 200)
  await w.sspr.flushDeliveries()
  const pin = w.outbox.lastPinTo('jane@home.example')
  assert.ok(pin, 'the retry delivered the PIN')
  await w.sspr.verifyPin(flowId, pin)
})

test('a node process whose backend never answers exits once its script is done', () => {
  const script = fileURLToPath(new URL('./fixtures/never.mjs', import.meta.url))
  const started = Date.now()
  const run = spawnSync(process.execPath, [script, String(LIMIT_MS)], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(run.error, undefined, 'the child did not exit on its own within 20 s')
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /beginReset: BACKEND unavailable/)
  assert.match(run.stdout, /background: BACKEND unavailable/)
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
})

test('backendTimeoutMs is whole milliseconds from 1 to 600000', () => {
  const base = { directory: new MemoryDirectory(USERS), notifier: new Outbox(), secretKey: KEY }
  for (const bad of [0, -1, 0.5, 600_001, Number.NaN]) {
    assert.throws(
      () => new Sspr({ ...base, backendTimeoutMs: bad }),
      (e) => e instanceof SsprError && e.code === 'CONFIG' && /backend timeout/.test(e.message),
      String(bad),
    )
  }
  assert.throws(() => new Sspr({ ...base, backendTimeoutMs: '300' }), (e) => e instanceof SsprError && e.code === 'INVALID_INPUT')
  new Sspr({ ...base, backendTimeoutMs: 1 })
  new Sspr({ ...base, backendTimeoutMs: 600_000 })
})
