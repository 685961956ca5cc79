// Rotating the server key: `previousKeys` keeps a reset begun under the old key (its PIN still
// verifies) and the decoy masks; without it the new key ends every pending reset.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Sspr, MemoryDirectory, MemoryContactStore, MemoryStateStore, Outbox, ManualClock } from '../index.js'
import { KEY, START, USERS, ADMIN } from './helpers.mjs'

const NEW_KEY = 'c3'.repeat(32)

test('a PIN sent before a rotation verifies after, and decoys stay', async () => {
  const [directory, outbox, clock] = [new MemoryDirectory(USERS), new Outbox(), new ManualClock(START)]
  const [store, contacts] = [new MemoryStateStore(), new MemoryContactStore()]
  const engine = (secretKey, previousKeys, seed) =>
    new Sspr({
      directory,
      contacts,
      notifier: outbox,
      store,
      clock,
      policy: { minResponseMs: 0 },
      secretKey,
      previousKeys,
      rngSeed: seed.repeat(32),
    })
  const old = engine(KEY, [], '01')
  await old.setEnabled(ADMIN, 'jdoe@example.org', true)
  await old.updateContacts(ADMIN, 'jdoe@example.org', { email: 'jane@home.example' })
  const { flowId } = await old.beginReset('jdoe@example.org')
  await old.sendPin(flowId, 'email')
  const pin = outbox.lastPinTo('jane@home.example')
  const masks = async (sspr) => (await sspr.beginReset('nobody@example.org')).methods.map((m) => m.masked)
  const recorded = await masks(old)

  // The new key alone: the pending reset is lost, the decoy redrawn.
  const newOnly = engine(NEW_KEY, [], '02')
  await assert.rejects(newOnly.verifyPin(flowId, pin === '00000000' ? '11111111' : '00000000'), { code: 'WRONG_PIN' })
  assert.notDeepEqual(await masks(newOnly), recorded)

  // The new key with the old one as previous (bytes are taken as well as hex).
  const ring = engine(NEW_KEY, [Buffer.from(KEY, 'hex')], '03')
  assert.deepEqual(await masks(ring), recorded)
  await ring.verifyPin(flowId, pin)
  const done = await ring.completeReset(flowId, { mode: 'temporary' })
  assert.ok(done.temporaryPassword)
})

test('a previous key that is not a key is a CONFIG error', () => {
  const base = { directory: new MemoryDirectory([]), notifier: new Outbox(), secretKey: KEY }
  assert.throws(() => new Sspr({ ...base, previousKeys: ['abcd'] }), { code: 'CONFIG' })
  assert.throws(() => new Sspr({ ...base, previousKeys: [42] }), { code: 'INVALID_INPUT' })
})
