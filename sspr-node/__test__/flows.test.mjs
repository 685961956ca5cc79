// Whole reset flows, the other operations, and every error code from a real scenario.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Sspr, SsprError, BackendError, MemoryDirectory, Outbox, ManualClock, Policy } from '../index.js'
import { ADMIN, USER, USERS, KEY, START, setup, enroll, pinSent, rejection, scratchDir, scratchFile } from './helpers.mjs'

test('a whole reset with a temporary password', async () => {
  const t = setup()
  await enroll(t.sspr)
  const challenge = await t.sspr.beginReset('  JDoe@Example.org ', { clientIp: '192.0.2.7', userAgent: 'test' })
  assert.match(challenge.flowId, /^[0-9a-f]{32}$/)
  assert.deepEqual(challenge.methods, [{ id: 'email', channel: 'email', masked: 'j***@h***.example', needsConfirmation: false }])
  assert.ok(challenge.expiresAt instanceof Date)
  assert.equal(challenge.expiresAt.getTime(), START.getTime() + 900_000)

  const sent = await t.sspr.sendPin(challenge.flowId, 'email')
  assert.ok(sent.expiresAt instanceof Date && sent.resendAfter instanceof Date)
  assert.equal(sent.expiresAt.getTime(), START.getTime() + 600_000)
  assert.equal(sent.attemptsLeft, 5)
  const pin = t.outbox.lastPinTo('jane@home.example')
  assert.match(pin, /^\d{8}$/)
  const [notice] = t.outbox.messagesTo('jane@home.example').filter((n) => n.kind === 'pin')
  assert.equal(notice.channel, 'email')
  assert.ok(notice.body.includes(pin))

  const verified = await t.sspr.verifyPin(challenge.flowId, pin)
  assert.deepEqual(verified, { modes: ['temporary', 'unlock_only'], remainingMethods: [] })

  const outcome = await t.sspr.completeReset(challenge.flowId)
  assert.equal(outcome.mustChange, true)
  assert.equal(outcome.unlocked, false)
  const password = outcome.temporaryPassword.reveal()
  assert.equal(password.length, 16)
  const jdoe = 'uid=jdoe,ou=staff,dc=example,dc=org'
  assert.ok(t.directory.passwordMatches(jdoe, password))
  assert.equal(t.directory.mustChange(jdoe), true)

  const status = await t.sspr.status('jdoe@example.org')
  assert.ok(status.lastResetAt instanceof Date)
  assert.equal(status.enabled, true)
  const kinds = t.audit.events().map((e) => e.kind)
  for (const kind of ['reset_requested', 'pin_sent', 'pin_verified', 'reset_completed']) assert.ok(kinds.includes(kind), kind)
  // The user signs in with the temporary password, which must be changed.
  const signedIn = await t.sspr.signIn('jdoe@example.org', password)
  assert.deepEqual(signedIn, { userId: jdoe, login: 'jdoe@example.org', displayName: 'Jane Doe', mustChange: true })
})

test('a chosen password, and unlock only', async () => {
  const t = setup({ policy: { allowChosenPassword: true } })
  await enroll(t.sspr)
  let flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  const weak = await rejection(t.sspr.completeReset(flow.flowId, { mode: 'chosen', password: 'password' }))
  assert.equal(weak.code, 'PASSWORD_REJECTED')
  const done = await t.sspr.completeReset(flow.flowId, { mode: 'chosen', password: 'Tr0ub4dor&3-horse' })
  assert.equal(done.temporaryPassword, null)
  assert.ok(t.directory.passwordMatches('uid=jdoe,ou=staff,dc=example,dc=org', 'Tr0ub4dor&3-horse'))

  t.directory.setState('jdoe@example.org', { locked: true })
  t.clock.advance(3600)
  flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  const unlocked = await t.sspr.completeReset(flow.flowId, { mode: 'unlock_only' })
  assert.deepEqual(unlocked, { temporaryPassword: null, mustChange: false, unlocked: true })
  assert.equal((await t.sspr.status('jdoe@example.org')).accountLocked, false)
})

test('an unknown login gets the same answer shape, and its sends go nowhere', async () => {
  const t = setup()
  const challenge = await t.sspr.beginReset('nobody@example.org')
  assert.equal(challenge.methods.length, 1)
  assert.match(challenge.methods[0].masked, /^.\*\*\*@.\*\*\*\.[a-z]+$/)
  const sent = await t.sspr.sendPin(challenge.flowId, 'email')
  assert.equal(sent.attemptsLeft, 5)
  assert.equal(t.outbox.messages().length, 0)
  assert.equal((await rejection(t.sspr.verifyPin(challenge.flowId, '12345678'))).code, 'WRONG_PIN')
})

test('contacts, status, search, enable and unblock', async () => {
  const t = setup()
  await enroll(t.sspr, 'jdoe@example.org', { email: 'jane@home.example', phone: '+44 7400 900123' })
  let contacts = await t.sspr.contacts('jdoe@example.org')
  assert.equal(contacts.email.value, 'jane@home.example')
  assert.equal(contacts.phone.value, '+447400900123')
  assert.ok(contacts.phone.usableFrom instanceof Date)
  // undefined keeps, null clears
  contacts = await t.sspr.updateContacts(ADMIN, 'jdoe@example.org', { phone: null })
  assert.equal(contacts.phone, null)
  assert.equal(contacts.email.value, 'jane@home.example')
  // A user's own new address is not saved before the code sent to it comes back...
  const unproven = await rejection(t.sspr.updateContacts(USER, 'jdoe@example.org', { email: 'jane@new.example' }))
  assert.deepEqual([unproven.code, unproven.reason], ['NOT_ALLOWED', 'contact_unproven'])
  const proof = await t.sspr.requestContactProof(USER, 'jdoe@example.org', 'email', 'jane@new.example')
  assert.deepEqual([proof.channel, proof.masked], ['email', 'j***@n***.example'])
  await t.sspr.flushDeliveries()
  const code = t.outbox.lastProofCodeTo('jane@new.example')
  assert.equal(t.outbox.lastPinTo('jane@new.example'), null, 'a proof code is not a reset PIN')
  const wrong = await rejection(t.sspr.confirmContactProof(USER, 'jdoe@example.org', proof.proofId, code === '00000000' ? '11111111' : '00000000'))
  assert.equal(wrong.code, 'WRONG_PIN')
  assert.ok(!wrong.message.includes(code), 'the code is in no error')
  // ...and then waits out the cooling-off period.
  contacts = await t.sspr.confirmContactProof(USER, 'jdoe@example.org', proof.proofId, code)
  assert.equal(contacts.email.usableFrom.getTime(), START.getTime() + 86_400_000)
  const spent = await rejection(t.sspr.confirmContactProof(USER, 'jdoe@example.org', proof.proofId, code))
  assert.equal(spent.code, 'ALREADY_USED')
  const status = await t.sspr.status('JDOE@example.org')
  assert.equal(status.emailMasked, 'j***@n***.example')
  assert.equal(status.privileged, false)
  assert.equal(status.blockedUntil, null)
  const found = await t.sspr.searchUsers('doe', 10)
  assert.deepEqual(found.map((u) => u.login), ['jdoe@example.org'])
  assert.equal((await t.sspr.searchUsers('example.org', 2)).length, 2)
  await t.sspr.setEnabled(ADMIN, 'jdoe@example.org', false)
  assert.equal((await t.sspr.status('jdoe@example.org')).enabled, false)
  assert.deepEqual(t.sspr.completionModes(), ['temporary', 'unlock_only'])
  assert.equal(t.sspr.policy.toJSON().pin_length, 8)
})

test("R.31: an admin's read of a user's contacts is audited contacts_viewed with the admin as actor", async () => {
  const t = setup()
  await enroll(t.sspr, 'jdoe@example.org', { email: 'jane@home.example', phone: '+44 7400 900123' })
  const ctx = { clientIp: '192.0.2.31', userAgent: 'helpdesk-browser' }
  const read = await t.sspr.adminContacts(ADMIN, 'jdoe@example.org', ctx)
  assert.deepEqual(read, await t.sspr.contacts('jdoe@example.org'), 'the contacts in full, as the user sees them')
  assert.equal(read.email.value, 'jane@home.example')
  const viewed = t.audit.events().filter((e) => e.kind === 'contacts_viewed')
  assert.equal(viewed.length, 1, 'one event for the read; `contacts` (the user\'s own page) records none')
  assert.deepEqual(viewed[0].actor, { type: 'admin', id: 'helpdesk-1' })
  assert.equal(viewed[0].user_id, 'uid=jdoe,ou=staff,dc=example,dc=org')
  assert.equal(viewed[0].client_ip, '192.0.2.31')
  assert.equal(viewed[0].destination, `${read.email.masked}, ${read.phone.masked}`)
  assert.ok(!JSON.stringify(t.audit.events()).includes('jane@home.example'), 'masked only')
  const refused = await rejection(t.sspr.adminContacts(USER, 'jdoe@example.org'))
  assert.deepEqual([refused.code, refused.reason], ['NOT_ALLOWED', 'admin_only'])
})

test('every error code comes from a real scenario', async (s) => {
  await s.test('WRONG_PIN with attemptsLeft, then PIN_VOIDED', async () => {
    const t = setup({ policy: { userFailuresBeforeBlock: 10, clientFailuresBeforeBlock: 10 } })
    await enroll(t.sspr)
    const flow = await pinSent(t)
    const wrong = flow.pin === '00000000' ? '11111111' : '00000000'
    for (let left = 4; left >= 1; left--) {
      const e = await rejection(t.sspr.verifyPin(flow.flowId, wrong))
      assert.ok(e instanceof SsprError && e instanceof Error)
      assert.equal(e.code, 'WRONG_PIN')
      assert.equal(e.attemptsLeft, left)
      assert.equal(e.name, 'SsprError')
    }
    const voided = await rejection(t.sspr.verifyPin(flow.flowId, wrong))
    assert.equal(voided.code, 'PIN_VOIDED')
    assert.equal((await rejection(t.sspr.verifyPin(flow.flowId, flow.pin))).code, 'PIN_VOIDED')
  })

  await s.test('EXPIRED: a PIN after its lifetime, and an unknown flow', async () => {
    const t = setup()
    await enroll(t.sspr)
    const flow = await pinSent(t)
    t.clock.advance(601)
    assert.equal((await rejection(t.sspr.verifyPin(flow.flowId, flow.pin))).code, 'EXPIRED')
    assert.equal((await rejection(t.sspr.verifyPin('0'.repeat(32), '12345678'))).code, 'EXPIRED')
  })

  await s.test('ALREADY_USED and INVALID_STATE', async () => {
    const t = setup()
    await enroll(t.sspr)
    const started = await t.sspr.beginReset('jdoe@example.org')
    assert.equal((await rejection(t.sspr.verifyPin(started.flowId, '12345678'))).code, 'INVALID_STATE')
    assert.equal((await rejection(t.sspr.completeReset(started.flowId))).code, 'INVALID_STATE')
    const flow = await pinSent(t)
    await t.sspr.verifyPin(flow.flowId, flow.pin)
    await t.sspr.completeReset(flow.flowId)
    assert.equal((await rejection(t.sspr.completeReset(flow.flowId))).code, 'ALREADY_USED')
  })

  await s.test('RATE_LIMITED with retryAfter: a resend inside the cooldown', async () => {
    const t = setup()
    await enroll(t.sspr)
    const flow = await pinSent(t)
    t.clock.advance(20)
    const e = await rejection(t.sspr.sendPin(flow.flowId, 'email'))
    assert.equal(e.code, 'RATE_LIMITED')
    assert.equal(e.retryAfter, 40)
  })

  await s.test('BLOCKED with blockedUntil after repeated failures; unblock lifts it', async () => {
    const t = setup({ policy: { maxWrongPins: 1, userFailuresBeforeBlock: 2 } })
    await enroll(t.sspr)
    const codes = []
    let e
    for (let i = 0; i < 2; i++) {
      const flow = await pinSent(t)
      const wrong = flow.pin === '00000000' ? '11111111' : '00000000'
      e = await rejection(t.sspr.verifyPin(flow.flowId, wrong))
      codes.push(e.code)
      t.clock.advance(61)
    }
    assert.deepEqual(codes, ['PIN_VOIDED', 'BLOCKED'])
    assert.ok(e.blockedUntil instanceof Date)
    assert.equal(e.blockedUntil.getTime(), START.getTime() + 61_000 + 86_400_000)
    const status = await t.sspr.status('jdoe@example.org')
    assert.equal(status.blockedUntil.getTime(), e.blockedUntil.getTime())
    assert.equal((await rejection(t.sspr.unblock(USER, 'jdoe@example.org'))).reason, 'admin_only')
    await t.sspr.unblock(ADMIN, 'jdoe@example.org')
    assert.equal((await t.sspr.status('jdoe@example.org')).blockedUntil, null)
  })

  await s.test('NOT_ALLOWED with its reason', async () => {
    const t = setup()
    const user = await rejection(t.sspr.setEnabled(USER, 'jdoe@example.org', true))
    assert.deepEqual([user.code, user.reason], ['NOT_ALLOWED', 'admin_only'])
    const privileged = await rejection(t.sspr.setEnabled(ADMIN, 'boss@example.org', true))
    assert.deepEqual([privileged.code, privileged.reason], ['NOT_ALLOWED', 'privileged'])
    await enroll(t.sspr)
    const flow = await pinSent(t)
    await t.sspr.verifyPin(flow.flowId, flow.pin)
    const mode = await rejection(t.sspr.completeReset(flow.flowId, { mode: 'chosen', password: 'Tr0ub4dor&3-horse' }))
    assert.deepEqual([mode.code, mode.reason], ['NOT_ALLOWED', 'mode_disabled'])
  })

  await s.test('UNKNOWN_USER, SIGN_IN_FAILED', async () => {
    const t = setup()
    assert.equal((await rejection(t.sspr.status('nobody@example.org'))).code, 'UNKNOWN_USER')
    assert.equal((await rejection(t.sspr.signIn('jdoe@example.org', 'wrong'))).code, 'SIGN_IN_FAILED')
    assert.equal((await rejection(t.sspr.signIn('nobody@example.org', 'wrong'))).code, 'SIGN_IN_FAILED')
    const ok = await t.sspr.signIn('JDOE@example.org', 'Old-Passw0rd!x')
    assert.equal(ok.mustChange, false)
  })

  await s.test('signInSelfService: a privileged account gets SIGN_IN_FAILED like a wrong password; signIn admits it', async () => {
    // The contacts page of a host that signed in with signIn let a domain admin's password
    // register contacts (preparing a reset of that account) and told a guesser it was right.
    const boss = { ...USERS[2], password: 'Boss-Passw0rd!x' }
    const t = setup({ directory: new MemoryDirectory([USERS[0], boss]) })
    assert.equal((await t.sspr.signIn(boss.login, boss.password)).login, boss.login)
    const right = await rejection(t.sspr.signInSelfService(boss.login, boss.password))
    const wrong = await rejection(t.sspr.signInSelfService(boss.login, 'wrong'))
    assert.deepEqual([right.code, right.message], [wrong.code, wrong.message])
    assert.equal(right.code, 'SIGN_IN_FAILED')
    assert.equal((await t.sspr.signInSelfService('jdoe@example.org', 'Old-Passw0rd!x')).displayName, 'Jane Doe')
  })

  await s.test('CONFIG: no key, a short key, a policy out of range', () => {
    const base = { directory: new MemoryDirectory(), notifier: new Outbox() }
    for (const options of [base, { ...base, secretKey: 'ab' }, { ...base, secretKey: KEY, policy: { pinLength: 4 } }]) {
      assert.throws(() => new Sspr(options), (e) => e instanceof SsprError && e.code === 'CONFIG')
    }
    assert.throws(() => Policy.from({ pinLenght: 6 }), (e) => e.code === 'CONFIG' && e.message.includes('pin_lenght'))
    // A policy file's wrong value names its key in TOML as in JSON (TOML named a line before).
    for (const read of [() => Policy.fromToml('pin_length = "six"'), () => Policy.fromJson('{"pin_length": "six"}')]) {
      assert.throws(read, (e) => e.code === 'CONFIG' && e.message.includes('policy field `pin_length`'))
    }
  })

  await s.test('INVALID_INPUT with the field', async () => {
    const t = setup()
    const cases = [
      [() => t.sspr.beginReset(''), 'login'],
      [() => t.sspr.beginReset(42), 'login'],
      [() => t.sspr.beginReset('a\u0000b@example.org'), 'login'],
      [() => t.sspr.sendPin('not-a-flow', 'email'), 'flow_id'],
      [() => t.sspr.sendPin('0'.repeat(32), 'pigeon'), 'method_id'],
      // Field names are the core's (tests/parity: the same in every binding), snake_case.
      [() => t.sspr.beginReset('jdoe@example.org', { clientIp: 'not an ip' }), 'client_ip'],
      [() => t.sspr.updateContacts(ADMIN, 'jdoe@example.org', { email: 'not an address' }), 'email'],
      [() => t.sspr.updateContacts(ADMIN, 'jdoe@example.org', { phone: 12 }), 'phone'],
      [() => t.sspr.completeReset('0'.repeat(32), { mode: 'chosen' }), 'password'],
      [() => t.sspr.updateContacts({ type: 'admin' }, 'jdoe@example.org', {}), 'admin'],
      [() => t.sspr.updateContacts({ type: 'robot' }, 'jdoe@example.org', {}), 'actor'],
    ]
    for (const [call, field] of cases) {
      const e = await rejection(call())
      assert.ok(e instanceof SsprError, String(e))
      assert.deepEqual([e.code, e.field], ['INVALID_INPUT', field], e.message)
    }
  })
})

test('a request context that is not an object of its fields is INVALID_INPUT (ctx), never a context without the address', async () => {
  // The attack: a host writing `client_ip` (the audit trail's name, Python's keyword), `ip`, or
  // passing `req.ip` itself got an empty context without a word: no address, so no per-client limit
  // held (40 begins from one client all answered where the 31st is refused: ip_begins_per_hour) and no audit address.
  const t = setup()
  await enroll(t.sspr)
  const flow = await pinSent(t)
  const ip = '192.0.2.7'
  for (const ctx of [ip, { client_ip: ip }, { ip }, { clientIP: ip }, 42, [ip], { clientIp: ip, remoteAddress: ip }]) {
    for (const call of [
      () => t.sspr.beginReset('jdoe@example.org', ctx),
      () => t.sspr.verifyPin(flow.flowId, flow.pin, ctx),
      () => t.sspr.signInSelfService('jdoe@example.org', 'Old-Passw0rd!x', ctx),
      () => t.sspr.redeemRecoveryCode('jdoe@example.org', '0123456789', ctx),
    ]) {
      const e = await rejection(call())
      assert.ok(e instanceof SsprError, `${JSON.stringify(ctx)}: ${e}`)
      assert.deepEqual([e.code, e.field], ['INVALID_INPUT', 'ctx'], JSON.stringify(ctx))
    }
  }
  // Nothing happened: the PIN still verifies. Every field, none, null and undefined are read.
  await t.sspr.verifyPin(flow.flowId, flow.pin, {
    clientIp: ip,
    userAgent: 'test',
    locale: 'de',
    acceptLanguage: 'fr',
    challengeToken: undefined,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  })
  for (const ctx of [undefined, null, {}]) await t.sspr.beginReset('jdoe@example.org', ctx)
  const verified = t.audit.events().filter((e) => e.kind === 'pin_verified')
  assert.equal(verified.at(-1).client_ip, ip)
})

test('a SQLite store (file) through a whole flow and across engines', async () => {
  const { SqliteStore } = await import('../index.js')
  const { rmSync } = await import('node:fs')
  const dir = scratchDir()
  try {
    const db = new SqliteStore(`${dir}/sspr.db`)
    const t = setup({ store: db, contacts: db })
    await enroll(t.sspr)
    const flow = await pinSent(t)
    // A second engine on the same database file sees the flow.
    const other = new Sspr({
      directory: t.directory,
      notifier: t.outbox,
      store: new SqliteStore(`${dir}/sspr.db`),
      contacts: new SqliteStore(`${dir}/sspr.db`),
      clock: t.clock,
      secretKey: KEY,
    })
    assert.deepEqual(await other.verifyPin(flow.flowId, flow.pin), { modes: ['temporary', 'unlock_only'], remainingMethods: [] })
    const outcome = await t.sspr.completeReset(flow.flowId)
    assert.equal(outcome.temporaryPassword.reveal().length, 16)
    assert.equal((await other.contacts('jdoe@example.org')).email.value, 'jane@home.example')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a Redis store (the real server of ./scripts/test.sh)', async () => {
  const url = process.env.SSPR_TEST_REDIS_URL
  assert.ok(url, 'SSPR_TEST_REDIS_URL is not set: run this suite via ./scripts/test.sh, which starts Redis')
  const { RedisStore } = await import('../index.js')
  const store = await RedisStore.connect(url)
  // Redis expires keys by its own clock too: the engine's clock must be near real time.
  const t = setup({ store, start: new Date() })
  await enroll(t.sspr)
  const flow = await pinSent(t)
  const wrong = flow.pin === '00000000' ? '11111111' : '00000000'
  assert.equal((await rejection(t.sspr.verifyPin(flow.flowId, wrong))).attemptsLeft, 4)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  assert.equal((await t.sspr.completeReset(flow.flowId)).mustChange, true)
  const down = await rejection(RedisStore.connect('redis://127.0.0.1:1/'))
  assert.deepEqual([down.code, down.backendKind], ['BACKEND', 'unavailable'])
})

test('a bad TLS file of a Redis store is CONFIG naming its field, before anything connects', async () => {
  const { RedisStore } = await import('../index.js')
  const { dirname, join } = await import('node:path')
  const junk = scratchFile('junk.pem', 'not a PEM file\n')
  // Port 1: nothing listens there, so only a check made before connecting can say CONFIG.
  const url = 'rediss://127.0.0.1:1/'
  for (const [config, field] of [
    [{ url, caFile: join(dirname(junk), 'missing.pem') }, 'ca_file'],
    [{ url, caFile: junk }, 'ca_file'],
    [{ url, clientCertFile: junk }, 'client_key_file'],
    [{ url, clientCertFile: junk, clientKeyFile: junk }, 'client_'],
  ]) {
    const e = await rejection(RedisStore.connect(config))
    assert.equal(e.code, 'CONFIG', `${JSON.stringify(config)}: ${e}`)
    assert.ok(e.message.includes(field), e.message)
  }
})

test('a bad CA file of a PostgreSQL store is CONFIG naming its setting, before anything connects', async () => {
  const { PostgresStore } = await import('../index.js')
  const { mkdtempSync, writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'sspr-node-pg-tls-'))
  const junk = join(dir, 'junk.pem')
  writeFileSync(junk, 'not a PEM file\n')
  // Port 1: nothing listens there, so only a check made before connecting can say CONFIG.
  const url = 'postgres://sspr:s3cret@127.0.0.1:1/sspr'
  for (const [config, setting] of [
    [{ url, caFile: join(dir, 'missing.pem') }, 'ca_file'],
    [{ url, caFile: junk }, 'ca_file'],
    [`${url}?sslmode=verify-ca&sslrootcert=${junk}`, 'sslrootcert'],
    [`${url}?sslmode=verify-everything`, 'sslmode'],
  ]) {
    const e = await rejection(PostgresStore.connect(config))
    assert.equal(e.code, 'CONFIG', `${JSON.stringify(config)}: ${e}`)
    assert.ok(e.message.includes(setting) && !e.message.includes('s3cret'), e.message)
  }
})

test('a Redis store over TLS with a private CA (the real TLS Redis of ./scripts/test.sh)', async () => {
  const url = process.env.SSPR_TEST_REDIS_TLS_URL
  const caFile = process.env.SSPR_TEST_CA
  assert.ok(url && caFile, 'SSPR_TEST_REDIS_TLS_URL/SSPR_TEST_CA are not set: run this suite via ./scripts/test.sh')
  const { RedisStore } = await import('../index.js')
  // Before, connect took a URL only: a Redis with a private CA could not be reached from Node.
  const store = await RedisStore.connect({ url, caFile, keyPrefix: `sspr-node-tls-${process.pid}:` })
  const t = setup({ store, start: new Date() })
  await enroll(t.sspr)
  const flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  assert.equal((await t.sspr.completeReset(flow.flowId)).mustChange, true)
  // The system's roots do not hold the test CA: the handshake fails.
  const untrusted = await rejection(RedisStore.connect({ url, connectTimeoutMs: 3000 }))
  assert.equal(untrusted.code, 'BACKEND', String(untrusted))
  // redis:// to another host is refused before anything is sent, unless allowed.
  const plain = await rejection(RedisStore.connect('redis://redis.example:6379/'))
  assert.deepEqual([plain.code, plain.backendKind], ['BACKEND', 'rejected'], String(plain))
  const allowed = await rejection(RedisStore.connect({ url: 'redis://192.0.2.1:6379/', allowPlaintext: true, connectTimeoutMs: 500 }))
  assert.deepEqual([allowed.code, allowed.backendKind], ['BACKEND', 'unavailable'], String(allowed))
  const misspelt = await rejection(RedisStore.connect({ url, caFiel: caFile }))
  assert.equal(misspelt.code, 'CONFIG')
  assert.match(misspelt.message, /caFiel|ca_fiel/)
})

test('a ManualClock moves only when told', () => {
  const clock = new ManualClock(START)
  clock.advance(1.5)
  assert.equal(clock.now().getTime(), START.getTime() + 1500)
  clock.set(START)
  assert.equal(clock.now().getTime(), START.getTime())
  assert.throws(() => clock.advance(-1), (e) => e.code === 'INVALID_INPUT')
})

test('registration coverage: the report, reminders at the directory mailbox once, re-confirmation', async () => {
  const directory = new MemoryDirectory([
    ...USERS,
    { login: 'max@example.org', displayName: 'Max M', dn: 'uid=max,ou=staff,dc=example,dc=org', mail: 'max@example.org' },
  ])
  const bad = await rejection((async () => directory.insert({ login: 'x@example.org', displayName: 'X', dn: 'uid=x', mail: 'nope' }))())
  assert.deepEqual([bad.code, bad.field], ['INVALID_INPUT', 'mail'])
  const t = setup({
    directory,
    policy: { registrationUrl: 'https://sspr.example.org/passwordnotification', reconfirmAfterDays: 30 },
  })
  await enroll(t.sspr)
  await t.sspr.setEnabled(ADMIN, 'max@example.org', true)

  const report = await t.sspr.enrollmentReport(ADMIN, { ous: ['ou=staff,dc=example,dc=org'] })
  assert.equal(report.counts.users, 4)
  assert.equal(report.counts.withoutContacts, 1)
  assert.equal(report.counts.registered, 1)
  const max = report.users.find((u) => u.login === 'max@example.org')
  assert.ok(max.withoutContacts && max.hasDirectoryMail)
  assert.equal(report.users.find((u) => u.login === 'jdoe@example.org').emailMasked, 'j***@h***.example')
  assert.equal((await rejection(t.sspr.enrollmentReport(USER))).reason, 'admin_only')
  const badFilter = await rejection(t.sspr.enrollmentReport(ADMIN, { staleAfterDays: 0 }))
  assert.deepEqual([badFilter.code, badFilter.field], ['INVALID_INPUT', 'stale_after_days'])

  const run = await t.sspr.sendRegistrationReminders(ADMIN)
  assert.deepEqual(run.reminded, ['max@example.org'])
  await t.sspr.flushDeliveries()
  const sent = t.outbox.messagesTo('max@example.org')
  assert.deepEqual(sent.map((n) => n.kind), ['registration_reminder'])
  assert.match(sent[0].body, /https:\/\/sspr\.example\.org\/passwordnotification/)
  assert.equal((await t.sspr.sendRegistrationReminders(ADMIN)).alreadyReminded, 1)

  assert.equal((await t.sspr.contacts('jdoe@example.org')).confirmDue, false)
  t.clock.advance(30 * 86400)
  assert.equal((await t.sspr.contacts('jdoe@example.org')).confirmDue, true)
  assert.equal((await t.sspr.confirmContacts(USER, 'jdoe@example.org')).confirmDue, false)
  assert.ok(t.audit.events().some((e) => e.kind === 'contacts_confirmed'))
})

test('a misspelt field of a filter, a contact update or a completion is INVALID_INPUT, never read as absent', async () => {
  // The attack (a busy admin): `{ ou: [...] }` for `{ ous: [...] }` covered every user, so the
  // reminders meant for one OU went to the whole directory; `{ mail }` for `{ email }` changed
  // nothing and answered as if done; `{ Mode: 'chosen' }` set a temporary password instead.
  const directory = new MemoryDirectory([
    ...USERS,
    { login: 'max@example.org', displayName: 'Max M', dn: 'uid=max,ou=students,dc=example,dc=org', mail: 'max@example.org' },
  ])
  const t = setup({ directory, policy: { registrationUrl: 'https://sspr.example.org/register', allowChosenPassword: true } })
  await enroll(t.sspr)
  await t.sspr.setEnabled(ADMIN, 'max@example.org', true)
  const flow = await pinSent(t)
  await t.sspr.verifyPin(flow.flowId, flow.pin)
  const cases = [
    [() => t.sspr.sendRegistrationReminders(ADMIN, { ou: ['ou=staff,dc=example,dc=org'] }), 'filter'],
    [() => t.sspr.enrollmentReport(ADMIN, { groups: ['staff'], staleDays: 30 }), 'filter'],
    [() => t.sspr.sendRegistrationReminders(ADMIN, 'ou=staff,dc=example,dc=org'), 'filter'],
    [() => t.sspr.updateContacts(ADMIN, 'jdoe@example.org', { mail: 'jane@new.example' }), 'update'],
    [() => t.sspr.updateContacts(ADMIN, 'jdoe@example.org', 'jane@new.example'), 'update'],
    [() => t.sspr.completeReset(flow.flowId, { Mode: 'chosen', password: 'Blue-Kettle-Orbit-77' }), 'newPassword'],
    [() => t.sspr.completeReset(flow.flowId, 'chosen'), 'newPassword'],
  ]
  for (const [call, field] of cases) {
    const e = await rejection(call())
    assert.ok(e instanceof SsprError, `${field}: ${e}`)
    assert.deepEqual([e.code, e.field], ['INVALID_INPUT', field], e.message)
  }
  // Nothing happened: no reminder, the contact kept, the flow still verified.
  await t.sspr.flushDeliveries()
  assert.deepEqual(t.outbox.messages().filter((n) => n.kind === 'registration_reminder'), [])
  assert.equal((await t.sspr.contacts('jdoe@example.org')).email.value, 'jane@home.example')
  const outcome = await t.sspr.completeReset(flow.flowId, { mode: 'chosen', password: 'Blue-Kettle-Orbit-77' })
  assert.equal(outcome.temporaryPassword, null)
  // The right names still work, and none is none.
  const run = await t.sspr.sendRegistrationReminders(ADMIN, { ous: ['ou=students,dc=example,dc=org'], groups: undefined, staleAfterDays: 30 })
  assert.deepEqual(run.reminded, ['max@example.org'])
  assert.equal((await t.sspr.enrollmentReport(ADMIN, null)).counts.users, 4)
})

test('password checkers: the configured ones (fromConfig) and JavaScript ones, in order', async () => {
  const { backends } = await import('../index.js')
  const bannedWords = scratchFile('banned.txt', 'harbour\n')
  const b = await backends.fromConfig({ passwordChecks: { bannedWordsFile: bannedWords } })
  assert.equal(b.passwordCheckers.length, 1)
  const seen = []
  const months = {
    async check(password, login, displayName) {
      seen.push([login, displayName])
      return /october/i.test(password) ? 'no month names, please' : null
    },
  }
  const t = setup({ directory: new MemoryDirectory(USERS) })
  const s = new Sspr({
    directory: t.directory,
    notifier: t.outbox,
    secretKey: KEY,
    policy: { minResponseMs: 0 },
    passwordCheckers: [...b.passwordCheckers, months],
  })
  const banned = await rejection(s.changePassword('jdoe@example.org', 'Old-Passw0rd!x', 'Quiet-Harbour-Lantern-77'))
  assert.deepEqual([banned.code, banned.refusal], ['PASSWORD_REJECTED', 'banned'])
  const month = await rejection(s.changePassword('jdoe@example.org', 'Old-Passw0rd!x', 'Quiet-October-Lantern-77'))
  assert.deepEqual([month.code, month.refusal], ['PASSWORD_REJECTED', 'unspecified'])
  assert.match(month.message, /month names/)
  assert.deepEqual(seen, [['jdoe@example.org', 'Jane Doe']])
  await s.changePassword('jdoe@example.org', 'Old-Passw0rd!x', 'Quiet-Meadow-Lantern-77')
  const down = new Sspr({
    directory: t.directory,
    notifier: t.outbox,
    secretKey: KEY,
    policy: { minResponseMs: 0 },
    passwordCheckers: [{ check: () => { throw new BackendError('unavailable', 'the service is down') } }],
  })
  const closed = await rejection(down.changePassword('jdoe@example.org', 'Quiet-Meadow-Lantern-77', 'Fresh-Valley-Candle-31'))
  assert.deepEqual([closed.code, closed.backendKind], ['BACKEND', 'unavailable'])
})

test('index.d.ts PolicyOptions names every policy field', async () => {
  // Thirteen were missing (adminAlertAddresses, registrationUrl, timeZone, defaultRegion, ...): a TypeScript
  // host following the README could not set them without a cast, though the engine takes them.
  const { readFileSync } = await import('node:fs')
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  const block = dts.slice(dts.indexOf('export interface PolicyOptions'), dts.indexOf("declare module './native'"))
  const typed = new Set([...block.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]))
  const camel = (name) => name.replace(/_(\w)/g, (_, c) => c.toUpperCase())
  const fields = new Set(Object.keys(new Policy().toJSON()).map(camel))
  assert.deepEqual([...fields].filter((f) => !typed.has(f)), [], 'fields missing from PolicyOptions')
  assert.deepEqual([...typed].filter((f) => !fields.has(f)), [], 'PolicyOptions names no such field')
  // Each is taken as typed.
  assert.deepEqual(Policy.from({ adminAlertAddresses: ['sec@example.org'], defaultRegion: 'GB' }).toJSON().admin_alert_addresses, ['sec@example.org'])
})
