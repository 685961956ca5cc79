// Shared set-up for the Node tests: a small directory, enrolled users, a manual clock.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  Sspr,
  MemoryDirectory,
  MemoryContactStore,
  MemoryStateStore,
  MemoryAuditSink,
  Outbox,
  ManualClock,
} from '../index.js'

export const KEY = '5a'.repeat(32)
export const START = new Date('2026-03-02T10:00:00Z')
export const ADMIN = { type: 'admin', id: 'helpdesk-1' }
export const USER = { type: 'user' }

export const USERS = [
  {
    login: 'jdoe@example.org',
    displayName: 'Jane Doe',
    dn: 'uid=jdoe,ou=staff,dc=example,dc=org',
    password: 'Old-Passw0rd!x',
  },
  { login: 'rroe@example.org', displayName: 'Richard Roe', dn: 'uid=rroe,ou=staff,dc=example,dc=org' },
  {
    login: 'boss@example.org',
    displayName: 'Big Boss',
    dn: 'uid=boss,ou=staff,dc=example,dc=org',
    groups: ['Domain Admins'],
  },
]

/** An engine on in-memory backends (any of them replaced by `over`), with a manual clock, unpadded. */
export function setup(over = {}) {
  const directory = over.directory ?? new MemoryDirectory(USERS)
  const outbox = over.notifier ?? new Outbox()
  const audit = over.audit ?? new MemoryAuditSink()
  const clock = new ManualClock(over.start ?? START)
  const sspr = new Sspr({
    directory,
    contacts: over.contacts ?? new MemoryContactStore(),
    notifier: outbox,
    store: over.store ?? new MemoryStateStore(),
    audit,
    clock,
    // Unpadded unless a test says otherwise: padding would move the manual clock at every
    // call and shift the times the tests check (enumeration.test.mjs tests the default).
    policy: { minResponseMs: 0, ...over.policy },
    secretKey: KEY,
    rngSeed: over.rngSeed,
    hooks: over.hooks,
    metrics: over.metrics,
  })
  return { sspr, directory, outbox, audit, clock }
}

/** Enable `login` and register its contacts (as an admin: usable at once). */
export async function enroll(sspr, login = 'jdoe@example.org', contacts = { email: 'jane@home.example' }) {
  await sspr.setEnabled(ADMIN, login, true)
  await sspr.updateContacts(ADMIN, login, contacts)
}

/** Begin a reset and send a PIN by e-mail; returns the flow id and the PIN the user got. */
export async function pinSent(t, login = 'jdoe@example.org', address = 'jane@home.example', ctx) {
  const challenge = await t.sspr.beginReset(login, ctx)
  await t.sspr.sendPin(challenge.flowId, 'email', null, ctx)
  return { flowId: challenge.flowId, pin: t.outbox.lastPinTo(address), challenge }
}

/** A whole reset of `login` by e-mail, the PIN read from `outbox` at `address` (`pinNote`: what
 * the PIN's arrival proves), checked through to the temporary password and the recorded reset. */
export async function resetByOutbox(sspr, outbox, login, address, pinNote) {
  const { flowId } = await sspr.beginReset(login)
  await sspr.sendPin(flowId, 'email')
  await sspr.flushDeliveries()
  const pin = outbox.lastPinTo(address)
  assert.ok(pin, pinNote)
  await sspr.verifyPin(flowId, pin)
  assert.ok((await sspr.completeReset(flowId)).temporaryPassword)
  assert.ok((await sspr.status(login)).lastResetAt, 'the stores hold the reset')
}

/** The error an async call rejects with. */
export async function rejection(promise) {
  try {
    await promise
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

/** A fresh folder of its own under the system's temporary one. */
export function scratchDir() {
  return mkdtempSync(join(tmpdir(), 'sspr-node-'))
}

/** A file holding `text`, alone in a fresh scratch folder: its path. */
export function scratchFile(name, text) {
  const file = join(scratchDir(), name)
  writeFileSync(file, text)
  return file
}
