// backends.fromConfig: every backend from the portal's configuration (sspr-backends' config,
// the one schema and builder), as an object or a TOML file, against the real servers
// ./scripts/test.sh starts (PostgreSQL, Redis).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sspr, SsprError, backends } from '../index.js'
import { ADMIN, KEY, rejection } from './helpers.mjs'

function env(name, server) {
  const value = process.env[name]
  assert.ok(value, `${name} is not set: run this suite via ./scripts/test.sh, which starts ${server}`)
  return value
}

/** A whole reset on configured backends (in-memory directory, development outbox). */
async function configuredFlow(b) {
  assert.ok(b.memoryDirectory && b.outbox, 'the in-memory directory and the outbox are handed back')
  const login = `cfg${process.pid}x${Date.now()}@example.org`
  b.memoryDirectory.insert({ login, displayName: 'Cora Config', dn: `uid=${login},ou=staff,dc=example,dc=org` })
  const sspr = new Sspr({ ...b, secretKey: KEY, policy: { minResponseMs: 0 } })
  await sspr.setEnabled(ADMIN, login, true)
  await sspr.updateContacts(ADMIN, login, { email: 'cora@home.example' })
  const { flowId } = await sspr.beginReset(login)
  await sspr.sendPin(flowId, 'email')
  await sspr.flushDeliveries()
  const pin = b.outbox.lastPinTo('cora@home.example')
  assert.ok(pin, 'the PIN went to the configured outbox')
  await sspr.verifyPin(flowId, pin)
  assert.ok((await sspr.completeReset(flowId)).temporaryPassword)
  assert.ok((await sspr.status(login)).lastResetAt, 'the configured stores hold the reset')
}

test('backends from an object: PostgreSQL contacts and Redis state, a whole reset', async () => {
  const b = await backends.fromConfig({
    store: { kind: 'postgres', url: env('SSPR_TEST_POSTGRES_URL', 'PostgreSQL'), poolSize: 2 },
    state: { kind: 'redis', url: env('SSPR_TEST_REDIS_URL', 'Redis'), keyPrefix: `sspr-node-cfg-${process.pid}-${Date.now()}:` },
  })
  assert.equal(b.stateIsShared, true)
  assert.deepEqual([b.directory.slot, b.contacts.slot, b.store.slot, b.notifier.slot], ['directory', 'contacts', 'store', 'notifier'])
  assert.equal(b.audit, undefined)
  assert.match(String(b.store), /Redis/)
  await configuredFlow(b)
})

test('backends from a TOML file: SQLite, a whole reset; an unknown kind or key is CONFIG', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspr-node-cfg-'))
  const path = join(dir, 'backends.toml')
  writeFileSync(path, `[store]\nkind = "sqlite"\npath = ${JSON.stringify(join(dir, 'sspr.db'))}\n[audit]\nkind = "json_lines"\npath = ${JSON.stringify(join(dir, 'audit.jsonl'))}\n`)
  const b = await backends.fromConfig(path)
  assert.equal(b.audit.slot, 'audit')
  await configuredFlow(b)
  assert.ok(existsSync(join(dir, 'sspr.db')) && existsSync(join(dir, 'audit.jsonl')))

  writeFileSync(path, '[store]\nkind = "mongodb"\n')
  const unknown = await rejection(backends.fromConfig(path))
  assert.ok(unknown instanceof SsprError, String(unknown))
  assert.equal(unknown.code, 'CONFIG')
  assert.match(unknown.message, /mongodb/)
  const misspelt = await rejection(backends.fromConfig({ store: { kind: 'sqlite', pth: 'x' } }))
  assert.equal(misspelt.code, 'CONFIG')
  assert.match(misspelt.message, /pth/)
  assert.equal((await rejection(backends.fromConfig(42))).code, 'CONFIG')
  // The default SQLite file goes to dataDir.
  const defaults = await backends.fromConfig({ store: { kind: 'sqlite' } }, { dataDir: dir })
  assert.equal(defaults.stateIsShared, true)
  assert.ok(existsSync(join(dir, 'sspr.sqlite')))
})

test('a configured backend goes to its own slot only', async () => {
  const b = await backends.fromConfig({})
  assert.equal(b.stateIsShared, false)
  const wrong = (() => {
    try {
      new Sspr({ ...b, store: b.contacts, secretKey: KEY })
    } catch (e) {
      return e
    }
  })()
  assert.ok(wrong instanceof SsprError)
  assert.equal(wrong.code, 'INVALID_INPUT')
  assert.equal(wrong.field, 'store')
  const unreachable = await rejection(
    backends.fromConfig({ state: { kind: 'redis', url: 'redis://:pw@127.0.0.1:1/0', connectTimeoutMs: 300 } }),
  )
  assert.equal(unreachable.code, 'CONFIG')
  assert.doesNotMatch(unreachable.message, /:pw@/)
})
