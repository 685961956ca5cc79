// backends.fromConfig: every backend from the portal's configuration (sspr-backends' config,
// the one schema and builder), as an object or a TOML file, against the real servers
// ./scripts/test.sh starts (PostgreSQL, Redis).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, constants, createReadStream, mkdtempSync, openSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sspr, SsprError, WebhookNotifier, backends } from '../index.js'
import { ADMIN, KEY, rejection, resetByOutbox } from './helpers.mjs'

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
  await resetByOutbox(sspr, b.outbox, login, 'cora@home.example', 'the PIN went to the configured outbox')
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
  // A misspelt `dataDir` was read as absent: the SQLite file went to the working directory.
  const stray = await rejection(backends.fromConfig({ store: { kind: 'sqlite' } }, { datadir: dir }))
  assert.equal(stray.code, 'CONFIG')
  assert.match(stray.message, /unknown option `datadir`/)
  // The default SQLite file goes to dataDir.
  const defaults = await backends.fromConfig({ store: { kind: 'sqlite' } }, { dataDir: dir })
  assert.equal(defaults.stateIsShared, true)
  assert.ok(existsSync(join(dir, 'sspr.sqlite')))
})

test('no configuration, a function or a symbol is CONFIG for fromConfig and the stores connect, not a napi Error', async () => {
  // On main: a plain Error (code InvalidArg, 'undefined cannot be represented as a serde_json::Value'),
  // so \`RedisStore.connect()\` without its URL could not be told from a bug by its code.
  const { RedisStore, PostgresStore } = await import('../index.js')
  for (const value of [undefined, () => 'redis://127.0.0.1', Symbol('url')]) {
    for (const call of [() => backends.fromConfig(value), () => RedisStore.connect(value), () => PostgresStore.connect(value)]) {
      const e = await rejection(call())
      assert.ok(e instanceof SsprError, String(e))
      assert.equal(e.code, 'CONFIG')
    }
  }
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

// A host process as a web app runs one: backends from `fromConfig` with an `audit` sink (behind the
// queue `fromConfig` puts in front of it), a burst of requests, one whole reset, then `process.exit`.
// argv: the audit table as JSON, the file to write the flow's secrets to, and 'flush' or 'exit'.
const AUDIT_HOST = `
import { writeFileSync } from 'node:fs'
import { Sspr, backends } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)}
const [auditJson, secretsPath, ending] = process.argv.slice(-3)
const audit = JSON.parse(auditJson)
const b = await backends.fromConfig({ audit })
if (!b.audit || !b.memoryDirectory || !b.outbox) throw new Error('no audit sink, directory or outbox')
const login = 'quinn@example.org'
b.memoryDirectory.insert({ login, displayName: 'Quinn Queue', dn: 'uid=quinn,ou=staff,dc=example,dc=org' })
const admin = { type: 'admin', id: 'helpdesk' }
const sspr = new Sspr({ ...b, secretKey: new Uint8Array(32).map((_, i) => i), policy: { minResponseMs: 0 } })
await sspr.setEnabled(admin, login, true)
await sspr.updateContacts(admin, login, { email: 'quinn@home.example' })
for (let n = 0; n < 2000; n++) await sspr.beginReset('nobody' + n + '@example.org')
const { flowId } = await sspr.beginReset(login)
await sspr.sendPin(flowId, 'email')
await sspr.flushDeliveries()
const pin = b.outbox.lastPinTo('quinn@home.example')
await sspr.verifyPin(flowId, pin)
const { temporaryPassword } = await sspr.completeReset(flowId)
if (ending === 'flush') {
  await sspr.flushDeliveries()
  await sspr.flushAudit()
}
writeFileSync(secretsPath, JSON.stringify([pin, temporaryPassword.reveal()]))
process.exit(0)
`

const FLOW_KINDS = ['contacts_changed', 'reset_requested', 'pin_sent', 'pin_verified', 'reset_completed']
/** The burst's 2000 and the reset's own. */
const REQUESTED = 2001

/** Run AUDIT_HOST to its exit; the flow's secrets (PIN, temporary password). */
async function auditHost(dir, audit, ending = 'flush') {
  const secrets = join(dir, 'secrets.json')
  const child = spawn(process.execPath, ['--input-type=module', '-e', AUDIT_HOST, JSON.stringify(audit), secrets, ending], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const [status] = await once(child, 'exit')
  assert.equal(status, 0, stderr)
  const found = JSON.parse(readFileSync(secrets, 'utf8'))
  assert.ok(found.length === 2 && found.every(Boolean), 'the child saw the PIN and the temporary password')
  return found
}

function assertFlowStored(kinds, stored, secrets) {
  for (const kind of FLOW_KINDS) assert.ok(kinds.includes(kind), `${kind} stored: ${kinds.slice(-8)}`)
  assert.deepEqual([kinds.filter((k) => k === 'reset_requested').length, kinds.at(-1)], [REQUESTED, 'reset_completed'])
  for (const secret of secrets) assert.ok(!stored.includes(secret), 'a PIN or password reached the audit trail')
}

test('flushAudit stores every event in SQLite before the host exits (without it the queued ones died with the process)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspr-node-audit-'))
  const db = join(dir, 'audit.sqlite')
  const secrets = await auditHost(dir, { kind: 'sqlite', path: db })
  // The sqlite3 shell (scripts/test.d/50-node.sh installs it) reads the file as an operator would.
  const rows = JSON.parse(execFileSync('sqlite3', ['-json', db, 'SELECT kind, outcome, event FROM sspr_audit ORDER BY id'], { encoding: 'utf8' }) || '[]')
  const stored = readFileSync(db).toString('latin1') + rows.map((r) => r.event).join('')
  assertFlowStored(rows.map((r) => r.kind), stored, secrets)
})

// The "file" is a pipe to a slow log shipper (this test, reading 4 KB a millisecond): the queue backs up
// behind the writes, and only flushAudit waits for it (on a local disk the file sink keeps up).
test('flushAudit stores every event in a JSON-lines file before the host exits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspr-node-audit-'))
  const log = join(dir, 'audit.jsonl')
  execFileSync('mkfifo', [log])
  const chunks = []
  const shipper = createReadStream(log, { highWaterMark: 4096 })
  shipper.on('data', (chunk) => {
    chunks.push(chunk)
    shipper.pause()
    setTimeout(() => shipper.resume(), 1)
  })
  const shipped = once(shipper, 'end')
  const secrets = await auditHost(dir, { kind: 'json_lines', path: log }).catch((e) => {
    // A host that failed before opening the pipe would leave the shipper waiting for a writer.
    try {
      closeSync(openSync(log, constants.O_WRONLY | constants.O_NONBLOCK))
    } catch {}
    throw e
  })
  await shipped
  const text = Buffer.concat(chunks).toString('utf8')
  const kinds = text.trim().split('\n').map((line) => JSON.parse(line).kind)
  assertFlowStored(kinds, text, secrets)
})

test('a secret of the wrong type is named in the error, never quoted', async () => {
  // serde's type errors quoted the value ("invalid type: integer `31415926535`, expected a
  // string"): a numeric password reached the error, and errors reach logs.
  const secret = 31415926535
  // A JS number is a double: napi hands one past 32 bits to serde as a float.
  const cases = [[secret, /integer|floating point/], [12345678, /integer/], [secret + 0.5, /floating point/], [true, /boolean/], [[secret], /sequence/]]
  for (const [value, kind] of cases) {
    const tables = [
      { notifier: { kind: 'smtp', host: 'h', from: 'a@b.org', password: value } },
      { state: { kind: 'redis', url: value } },
      { store: { kind: 'postgres', url: value } },
      { sms: { kind: 'twilio', accountSid: 'AC1', from: '+15005550006', authToken: value } },
      { directory: { kind: 'ldap', url: 'ldaps://h', baseDn: 'dc=x', bindDn: 'cn=a', bindPassword: value } },
    ]
    for (const table of tables) {
      const err = await rejection(backends.fromConfig(table))
      assert.equal(err.code, 'CONFIG', String(err))
      assert.ok(!err.message.includes(String(secret)) && !/12345678|`true`/.test(err.message), err.message)
      assert.match(err.message, kind)
    }
    // The classes read the same types.
    assert.throws(() => new WebhookNotifier({ url: 'https://h/x', key: value }), (e) =>
      e.code === 'CONFIG' && !e.message.includes(String(secret)) && !e.message.includes('12345678') && kind.test(e.message))
  }
})
