// Backends written in JavaScript that hold state (a StateStore, a ContactStore, a
// Directory), proven with sspr-core's conformance suite through `testing.check*`, a broken
// one caught by it, and a whole flow on a JavaScript state store.
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BackendError, SsprError, testing } from '../index.js'
import { enroll, pinSent, setup } from './helpers.mjs'

/** A StateStore over a Map: entries expire by the `now` the engine passes. */
export class MapStateStore {
  entries = new Map()

  live(key, now) {
    const entry = this.entries.get(key)
    return entry && entry.expiresAt > now ? entry : undefined
  }

  get(key, now) {
    const entry = this.live(key, now)
    return entry && 'value' in entry ? { value: entry.value, version: entry.version } : null
  }

  put(key, value, expectedVersion, expiresAt, now) {
    const current = this.live(key, now)?.version ?? null
    if (current !== expectedVersion) return null
    const version = (current ?? 0) + 1
    this.entries.set(key, { value: Buffer.from(value), version, expiresAt })
    return version
  }

  increment(key, expiresAt, now) {
    const entry = this.live(key, now)
    const counter = entry && 'count' in entry ? { count: entry.count + 1, expiresAt: entry.expiresAt } : { count: 1, expiresAt }
    this.entries.set(key, counter)
    return { ...counter }
  }

  delete(key) {
    this.entries.delete(key)
  }
}

/** The same store with every method async, as a store over a network would be. */
class AsyncMapStateStore {
  inner = new MapStateStore()
  async get(...args) {
    await null
    return this.inner.get(...args)
  }
  async put(...args) {
    await null
    return this.inner.put(...args)
  }
  async increment(...args) {
    await null
    return this.inner.increment(...args)
  }
  async delete(key) {
    await null
    this.inner.delete(key)
  }
}

/** A ContactStore over a Map: `save` is a compare-and-set on the version. */
class MapContactStore {
  records = new Map()
  get(userId) {
    return this.records.get(userId) ?? null
  }
  save(userId, enrollment, expectedVersion) {
    if ((this.records.get(userId)?.version ?? 0) !== expectedVersion) return false
    this.records.set(userId, { ...enrollment, version: expectedVersion + 1 })
    return true
  }
}

/** A Directory over an array: exact lookups (nothing to escape), passwords of 10+ characters. */
class ArrayDirectory {
  users = [{ id: 'u-1', login: 'jdoe@example.org', displayName: 'Jane Doe', dn: 'uid=jdoe,dc=example,dc=org' }]
  passwords = new Map()
  findUser(login) {
    return this.users.find((u) => u.login === login) ?? null
  }
  setPassword(userId, password, mustChange) {
    if (password.length < 10) throw new BackendError('password_rejected', 'shorter than 10 characters')
    this.passwords.set(userId, { password, mustChange })
  }
  unlock() {}
  authenticate(userId, password) {
    const set = this.passwords.get(userId)
    if (!set || set.password !== password) return 'rejected'
    return set.mustChange ? 'must_change' : 'accepted'
  }
  search(query, limit) {
    const q = query.toLowerCase()
    return this.users.filter((u) => u.login.includes(q) || u.displayName.toLowerCase().includes(q)).slice(0, limit)
  }
}

const FIXTURE = {
  login: 'JDoe@example.org',
  id: 'u-1',
  missingLogin: 'nobody@example.org',
  goodPassword: 'correct horse battery',
  weakPassword: 'tiny-pw',
}

test('a Map-backed JavaScript state store passes the conformance suite, sync and async', async () => {
  await testing.checkStateStore(new MapStateStore())
  await testing.checkStateStore(new AsyncMapStateStore())
})

test('a misspelt option of checkStateStore is CONFIG naming it, not a run on the manual clock', async () => {
  // `realtime` was read as absent: a store expiring by its own clock was checked on a manual one.
  const e = await testing.checkStateStore(new MapStateStore(), { realtime: true }).then(() => null, (err) => err)
  assert.ok(e instanceof SsprError, String(e))
  assert.equal(e.code, 'CONFIG')
  assert.match(e.message, /unknown option `realtime`/)
})

test('the conformance suite catches a state store whose put is not a compare-and-set', async () => {
  class NoCompareAndSet extends MapStateStore {
    put(key, value, expectedVersion, expiresAt, now) {
      const version = (this.live(key, now)?.version ?? 0) + 1
      this.entries.set(key, { value: Buffer.from(value), version, expiresAt })
      return version
    }
  }
  const e = await testing.checkStateStore(new NoCompareAndSet()).then(
    () => assert.fail('a store without compare-and-set passed'),
    (e) => e,
  )
  assert.ok(e instanceof SsprError, String(e))
  assert.equal(e.code, 'BACKEND')
  assert.equal(e.backendKind, 'rejected')
  assert.match(e.message, /conformance: .*must fail/)
})

test('a broken store is reported without a panic on stderr', () => {
  // The suite's failed assertion is the rejection; printed as a Rust panic with its backtrace
  // hint, it read as sspr crashing. Run in a child process, whose stderr is all its own.
  const script = `
    import { testing } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)}
    ${MapStateStore.toString()}
    class NoCompareAndSet extends MapStateStore {
      put(key, value, expectedVersion, expiresAt, now) {
        const version = (this.live(key, now)?.version ?? 0) + 1
        this.entries.set(key, { value: Buffer.from(value), version, expiresAt })
        return version
      }
    }
    testing.checkStateStore(new NoCompareAndSet()).then(() => process.exit(3), (e) => { console.log(e.message); process.exit(0) })
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /conformance: .*must fail/)
  assert.doesNotMatch(run.stderr, /panicked|RUST_BACKTRACE/)
})

test('the conformance suite catches a state store that returns expired values', async () => {
  class NeverExpires extends MapStateStore {
    live(key) {
      return this.entries.get(key)
    }
  }
  await assert.rejects(testing.checkStateStore(new NeverExpires()), /conformance: .*expired/)
})

test('a whole reset flow runs on a JavaScript state store', async () => {
  const store = new MapStateStore()
  const t = setup({ store })
  await enroll(t.sspr)
  const { flowId, pin } = await pinSent(t)
  await t.sspr.verifyPin(flowId, pin)
  const outcome = await t.sspr.completeReset(flowId)
  assert.equal(outcome.mustChange, true)
  assert.ok(store.entries.size > 0, 'the engine kept its flow in the JavaScript store')
  await assert.rejects(t.sspr.completeReset(flowId), (e) => e.code === 'ALREADY_USED' || e.code === 'INVALID_STATE')
})

test('a JavaScript state store that throws is a BACKEND error, not a crash', async () => {
  class Down extends MapStateStore {
    get() {
      throw new BackendError('unavailable', 'the store is down')
    }
  }
  const t = setup({ store: new Down() })
  await enroll(t.sspr)
  const e = await t.sspr.beginReset('jdoe@example.org').then(() => null, (e) => e)
  assert.equal(e?.code, 'BACKEND')
  assert.equal(e.backendKind, 'unavailable')
})

test('a Map-backed JavaScript contact store and an array directory pass their conformance suites', async () => {
  await testing.checkContactStore(new MapContactStore())
  await testing.checkDirectory(new ArrayDirectory(), FIXTURE)
})

test('the conformance suite catches a contact store without compare-and-set and a directory that ignores weak passwords', async () => {
  class Overwrites extends MapContactStore {
    save(userId, enrollment, expectedVersion) {
      this.records.set(userId, { ...enrollment, version: expectedVersion + 1 })
      return true
    }
  }
  await assert.rejects(testing.checkContactStore(new Overwrites()), (e) => e.code === 'BACKEND' && /conformance/.test(e.message))
  class Lax extends ArrayDirectory {
    setPassword(userId, password, mustChange) {
      this.passwords.set(userId, { password, mustChange })
    }
  }
  await assert.rejects(testing.checkDirectory(new Lax(), FIXTURE), /conformance: a weak password must be refused/)
})

test('the conformance checks given no backend or a bad option reject with INVALID_INPUT naming it', async () => {
  // On main: napi's TypeError ("Cannot convert undefined or null to object") or its plain Error
  // (code BooleanExpected), neither an SsprError a caller can tell by its code.
  const cases = [
    [() => testing.checkStateStore(null), 'store'],
    [() => testing.checkStateStore(undefined), 'store'],
    [() => testing.checkStateStore(new MapStateStore(), { realTime: 'yes' }), 'realTime'],
    [() => testing.checkContactStore(null), 'store'],
    [() => testing.checkDirectory(undefined, FIXTURE), 'directory'],
    [() => testing.checkNotifier(null, { destinations: ['jane@home.example'] }), 'notifier'],
    [() => testing.checkNotifier(new InboxNotifier(), { destinations: 'jane@home.example' }), 'destinations'],
    [() => testing.checkNotifier(new InboxNotifier(), { destinations: ['not a destination'] }), 'destinations'],
  ]
  for (const [call, field] of cases) {
    await assert.rejects(call(), (e) => e instanceof SsprError && e.code === 'INVALID_INPUT' && e.field === field, field)
  }
})

/** A notifier that delivers into an in-process inbox: what each destination's recipient reads. */
class InboxNotifier {
  delivered = new Map()

  send(n) {
    const box = this.delivered.get(n.to) ?? []
    box.push(`${n.subject}\n${n.body}`)
    this.delivered.set(n.to, box)
  }

  get inbox() {
    return { read: (destination) => [...(this.delivered.get(destination) ?? [])] }
  }
}

const DESTINATIONS = ['jane@home.example', 'joe@home.example', '+447400900123']

test('a JavaScript notifier passes the notifier conformance suite, its inbox read', async () => {
  const notifier = new InboxNotifier()
  await testing.checkNotifier(notifier, { destinations: DESTINATIONS, inbox: notifier.inbox })
  class Async extends InboxNotifier {
    async send(n) {
      await new Promise((resolve) => setImmediate(resolve))
      super.send(n)
    }
  }
  const later = new Async()
  await testing.checkNotifier(later, { destinations: DESTINATIONS, inbox: later.inbox })
})

test('the notifier suite catches a notifier that swallows texts, sends twice, or mixes up PINs sent at once', async () => {
  // An e-mail notifier that answers Ok to a text message: the PIN is lost, the audit says sent.
  const mailOnly = new InboxNotifier()
  await assert.rejects(
    testing.checkNotifier(mailOnly, { destinations: ['jane@home.example'], inbox: mailOnly.inbox }),
    (e) => e.code === 'BACKEND' && /does not serve must be refused as Rejected/.test(e.message),
  )
  class Twice extends InboxNotifier {
    send(n) {
      super.send(n)
      super.send(n)
    }
  }
  const twice = new Twice()
  await assert.rejects(testing.checkNotifier(twice, { destinations: DESTINATIONS, inbox: twice.inbox }), /each notice must arrive once/)
  // The PIN kept in one field while the message is built (a 20 ms call to a template service):
  // concurrent sends take each other's.
  class Shared extends InboxNotifier {
    async send(n) {
      this.pin = n.pin
      await new Promise((resolve) => setTimeout(resolve, 20))
      super.send({ ...n, body: n.pin === null ? n.body : n.body.replace(n.pin, this.pin) })
    }
  }
  const shared = new Shared()
  await assert.rejects(
    testing.checkNotifier(shared, { destinations: DESTINATIONS, inbox: shared.inbox }),
    // Another destination's PIN, or another PIN of the same destination (which calls overlap
    // depends on how fast they arrive).
    /a notifier must never mix up its sends|a PIN must arrive at its destination .* in one message/,
  )
})

/**
 * The Map store with a lock-free read, await, then write (a GET and a SET over a client). The
 * await is a network's few milliseconds: one turn of the event loop let the engine's racing
 * calls, which reach JavaScript one by one, run one after another at times, and then pass.
 */
class GetAwaitSet extends MapStateStore {
  async put(key, value, expectedVersion, expiresAt, now) {
    const current = this.live(key, now)?.version ?? null
    await new Promise((resolve) => setTimeout(resolve, 5))
    if (current !== expectedVersion) return null
    const version = (current ?? 0) + 1
    this.entries.set(key, { value: Buffer.from(value), version, expiresAt })
    return version
  }

  async increment(key, expiresAt, now) {
    const entry = this.live(key, now)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const counter = entry && 'count' in entry ? { count: entry.count + 1, expiresAt: entry.expiresAt } : { count: 1, expiresAt }
    this.entries.set(key, counter)
    return { ...counter }
  }
}

/** Judges expiry by `now`, but frees each entry with a `setTimeout` given its seconds (it takes milliseconds). */
class TimeoutInSeconds extends MapStateStore {
  timers = new Map()
  expireLater(key, expiresAt, now) {
    clearTimeout(this.timers.get(key))
    const timer = setTimeout(() => this.entries.delete(key), (expiresAt - now) / 1000)
    timer.unref()
    this.timers.set(key, timer)
  }

  put(key, value, expectedVersion, expiresAt, now) {
    const version = super.put(key, value, expectedVersion, expiresAt, now)
    if (version !== null) this.expireLater(key, expiresAt, now)
    return version
  }

  increment(key, expiresAt, now) {
    const counter = super.increment(key, expiresAt, now)
    if (counter.count === 1) this.expireLater(key, counter.expiresAt, now)
    return counter
  }
}

/** A cache of at most 1,000 entries dropping the least recently written (an LRU). */
class Lru extends MapStateStore {
  note(key) {
    const entry = this.entries.get(key)
    this.entries.delete(key)
    this.entries.set(key, entry)
    while (this.entries.size > 1000) this.entries.delete(this.entries.keys().next().value)
  }

  put(key, ...rest) {
    const version = super.put(key, ...rest)
    if (version !== null) this.note(key)
    return version
  }

  increment(key, ...rest) {
    const counter = super.increment(key, ...rest)
    this.note(key)
    return counter
  }
}

/** Values kept as text: a Buffer turned into a string and back loses bytes that are not UTF-8. */
class TextValues extends MapStateStore {
  get(key, now) {
    const got = super.get(key, now)
    return got && { value: Buffer.from(got.value.toString('utf8')), version: got.version }
  }
}

/** Keys lower-cased (a case-insensitive column). */
class FoldedKeys extends MapStateStore {
  get(key, now) {
    return super.get(key.toLowerCase(), now)
  }
  put(key, ...rest) {
    return super.put(key.toLowerCase(), ...rest)
  }
  increment(key, ...rest) {
    return super.increment(key.toLowerCase(), ...rest)
  }
  delete(key) {
    return super.delete(key.toLowerCase())
  }
}

for (const [Wrong, rule] of [
  // Caught by the first of the races (compare-and-sets, increments, batches) its timing loses.
  [GetAwaitSet, /conformance: .*concurrent/],
  // Fails at the clock check, or earlier at a 1 s entry its timer freed after 1 ms.
  [TimeoutInSeconds, /conformance: /],
  [Lru, /conformance: .*a store must keep every live value/],
  [TextValues, /conformance: .*values must round-trip byte for byte/],
  [FoldedKeys, /conformance: .*keys differing only in case must be two keys/],
]) {
  test(`the conformance suite fails a wrong JavaScript store: ${Wrong.name}`, async () => {
    await assert.rejects(testing.checkStateStore(new Wrong()), (e) => e.code === 'BACKEND' && rule.test(e.message))
  })
}
