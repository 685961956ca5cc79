// The built-in backends of sspr-backends against the real servers ./scripts/test.sh starts:
// PostgreSQL (store and contacts) and OpenLDAP (directory and contacts on its attributes).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { Sspr, SsprError, PostgresStore, LdapDirectory, LdapContactStore, Outbox, MemoryStateStore } from '../index.js'
import { ADMIN, KEY, setup, enroll, pinSent, rejection } from './helpers.mjs'

function env(name, server) {
  const value = process.env[name]
  assert.ok(value, `${name} is not set: run this suite via ./scripts/test.sh, which starts ${server}`)
  return value
}

test('PostgreSQL store and contacts through a whole flow', async () => {
  const url = env('SSPR_TEST_POSTGRES_URL', 'PostgreSQL')
  const db = await PostgresStore.connect({ url, poolSize: 2 })
  // Twenty racing submissions of the right PIN would each count as an attempt before the
  // compare (per-client cap 5, delays from 5): lift the caps so the race is only about the winner.
  const policy = { clientFailuresBeforeBlock: 50, userFailuresBeforeBlock: 100, failuresBeforeDelay: 50 }
  const t = setup({ store: db, contacts: db, start: new Date(), policy })
  const login = 'jdoe@example.org'
  await enroll(t.sspr, login, { email: `node-${process.pid}-${Date.now()}@home.example` })
  const address = (await t.sspr.contacts(login)).email.value
  const flow = await pinSent(t, login, address)
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => t.sspr.verifyPin(flow.flowId, flow.pin)))
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one of 20 concurrent verifications wins')
  assert.equal((await t.sspr.completeReset(flow.flowId)).mustChange, true)
  const down = await rejection(PostgresStore.connect({ url: 'postgres://postgres@127.0.0.1:1/sspr', connectTimeoutMs: 500 }))
  assert.ok(down instanceof SsprError)
  assert.equal(down.code, 'BACKEND')
})

function ldapAdd(ldif) {
  const run = spawnSync(
    'ldapadd',
    ['-x', '-ZZ', '-H', env('SSPR_TEST_LDAP_URL', 'slapd'), '-D', env('SSPR_TEST_LDAP_ADMIN_DN', 'slapd'), '-w', env('SSPR_TEST_LDAP_ADMIN_PASSWORD', 'slapd')],
    { input: ldif, encoding: 'utf8', env: { ...process.env, LDAPTLS_CACERT: env('SSPR_TEST_CA', 'the test CA') } },
  )
  assert.equal(run.status, 0, `ldapadd failed: ${run.stderr}`)
}

test('OpenLDAP directory and contacts through a whole flow, then sign-in with the temporary password', async () => {
  const base = env('SSPR_TEST_LDAP_BASE', 'slapd')
  const uid = `node${process.pid}x${Date.now()}`
  const dn = `uid=${uid},ou=staff,ou=people,${base}`
  ldapAdd(`dn: ${dn}
objectClass: inetOrgPerson
objectClass: ssprAccount
uid: ${uid}
cn: Node Person
sn: Test
displayName: Node Person
userPrincipalName: ${uid}@corp.example.org
userPassword: Init-Passw0rd-1
`)
  const directory = new LdapDirectory({
    url: env('SSPR_TEST_LDAP_URL', 'slapd'),
    flavor: 'openldap',
    starttls: true,
    caFile: env('SSPR_TEST_CA', 'the test CA'),
    baseDn: base,
    bindDn: env('SSPR_TEST_LDAP_BIND_DN', 'slapd'),
    bindPassword: env('SSPR_TEST_LDAP_BIND_PASSWORD', 'slapd'),
  })
  const contacts = new LdapContactStore(directory, {
    emailAttribute: 'ssprAltMail',
    phoneAttribute: 'mobile',
    enabledAttribute: 'ssprEnabled',
    recordAttribute: 'ssprEnrollment',
    recordKey: 'node test record key, at least 32 bytes long',
  })
  const outbox = new Outbox()
  const sspr = new Sspr({
    directory,
    contacts,
    notifier: outbox,
    store: new MemoryStateStore(),
    secretKey: KEY,
    policy: { eligibleOus: [`ou=staff,ou=people,${base}`] },
  })
  const email = `${uid}@home.example`
  await sspr.setEnabled(ADMIN, uid, true)
  await sspr.updateContacts(ADMIN, uid, { email })
  assert.equal((await sspr.signIn(uid, 'Init-Passw0rd-1')).mustChange, false)
  const challenge = await sspr.beginReset(uid)
  await sspr.sendPin(challenge.flowId, 'email')
  await sspr.verifyPin(challenge.flowId, outbox.lastPinTo(email))
  const outcome = await sspr.completeReset(challenge.flowId)
  const temporary = outcome.temporaryPassword.reveal()
  const signedIn = await sspr.signIn(uid, temporary)
  assert.deepEqual(signedIn, { userId: dn, login: uid, displayName: 'Node Person', mustChange: true })
  assert.equal((await rejection(sspr.signIn(uid, 'Init-Passw0rd-1'))).code, 'SIGN_IN_FAILED')
  assert.ok((await sspr.searchUsers(uid, 5)).some((u) => u.userId === dn))
  // A directory that cannot be reached is BACKEND (unavailable), not a crash.
  const down = new Sspr({
    directory: new LdapDirectory({ url: 'ldaps://127.0.0.1:1', baseDn: base, bindDn: 'cn=x', bindPassword: 'x', connectTimeoutSecs: 1 }),
    notifier: outbox,
    secretKey: KEY,
  })
  const e = await rejection(down.status(uid))
  assert.deepEqual([e.code, e.backendKind], ['BACKEND', 'unavailable'])
})

/** The code in the newest mail to `address` in the sink's Maildir. */
async function pinFromMaildir(address) {
  const { readdirSync, readFileSync, statSync } = await import('node:fs')
  const maildir = env('SSPR_TEST_MAILDIR', 'the SMTP sink')
  for (let tries = 0; tries < 50; tries++) {
    const files = []
    for (const sub of ['new', 'cur']) {
      try {
        for (const f of readdirSync(`${maildir}/${sub}`)) files.push(`${maildir}/${sub}/${f}`)
      } catch {}
    }
    const mails = files
      .map((f) => ({ f, t: statSync(f).mtimeMs, text: readFileSync(f, 'utf8') }))
      .filter((m) => m.text.includes(address))
      .sort((a, b) => b.t - a.t)
    for (const m of mails) {
      const code = m.text.replace(/=\r?\n/g, '').match(/\b(\d{8})\b/)
      if (code) return code[1]
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no mail with a code to ${address}`)
}

test('checkPrivilegedGroups names a privileged group whose members the service account cannot see', async () => {
  // cn=hidden-admins (scripts/servers/ldap): an ACL hides its members from the service account,
  // so its admin would read as an ordinary user; a host can refuse to start.
  const base = env('SSPR_TEST_LDAP_BASE', 'slapd')
  const directory = new LdapDirectory({
    url: env('SSPR_TEST_LDAP_URL', 'slapd'),
    starttls: true,
    caFile: env('SSPR_TEST_CA', 'the test CA'),
    baseDn: base,
    bindDn: env('SSPR_TEST_LDAP_BIND_DN', 'slapd'),
    bindPassword: env('SSPR_TEST_LDAP_BIND_PASSWORD', 'slapd'),
  })
  const engine = (group) =>
    new Sspr({ directory, notifier: new Outbox(), secretKey: KEY, policy: { privilegedGroups: [group] } })
  const hidden = await rejection(engine(`cn=hidden-admins,ou=groups,${base}`).checkPrivilegedGroups())
  assert.equal(hidden.code, 'BACKEND', String(hidden))
  assert.match(String(hidden), /hidden-admins/)
  assert.ok(!String(hidden).includes(env('SSPR_TEST_LDAP_BIND_PASSWORD', 'slapd')))
  assert.equal(await engine(`cn=privileged,ou=groups,${base}`).checkPrivilegedGroups(), undefined)
})

test('SMTP notifier: the PIN arrives by real mail (STARTTLS, AUTH, private CA)', async () => {
  const { SmtpNotifier } = await import('../index.js')
  const notifier = new SmtpNotifier({
    host: env('SSPR_TEST_SMTP_HOST', 'the SMTP sink'),
    port: Number(env('SSPR_TEST_SMTP_STARTTLS_PORT', 'the SMTP sink')),
    tls: 'starttls',
    username: env('SSPR_TEST_SMTP_USER', 'the SMTP sink'),
    password: env('SSPR_TEST_SMTP_PASSWORD', 'the SMTP sink'),
    caFile: env('SSPR_TEST_CA', 'the test CA'),
    from: 'Password reset <no-reply@example.org>',
  })
  const t = setup({ notifier, start: new Date() })
  const address = `node-${process.pid}-${Date.now()}@home.example`
  await enroll(t.sspr, 'jdoe@example.org', { email: address })
  const challenge = await t.sspr.beginReset('jdoe@example.org')
  await t.sspr.sendPin(challenge.flowId, 'email')
  const pin = await pinFromMaildir(address)
  await t.sspr.verifyPin(challenge.flowId, pin)
  assert.equal((await t.sspr.completeReset(challenge.flowId)).mustChange, true)
  // A wrong relay password: BACKEND, and nothing was half-done (the flow can retry).
  const bad = new SmtpNotifier({
    host: env('SSPR_TEST_SMTP_HOST', 'the SMTP sink'),
    port: Number(env('SSPR_TEST_SMTP_STARTTLS_PORT', 'the SMTP sink')),
    username: env('SSPR_TEST_SMTP_USER', 'the SMTP sink'),
    password: 'wrong',
    caFile: env('SSPR_TEST_CA', 'the test CA'),
    from: 'no-reply@example.org',
    timeoutMs: 3000,
  })
  const t2 = setup({ notifier: bad, start: new Date() })
  await enroll(t2.sspr, 'jdoe@example.org', { email: address })
  const c2 = await t2.sspr.beginReset('jdoe@example.org')
  // Not the caller's business (an unknown login would not see it): answered as a decoy's, the
  // failure is in the audit trail.
  await t2.sspr.sendPin(c2.flowId, 'email')
  await t2.sspr.flushDeliveries()
  const failed = t2.audit.events().filter((e) => e.kind === 'pin_sent' && e.outcome.result === 'failed')
  assert.equal(failed.length, 1, JSON.stringify(t2.audit.events()))
  assert.throws(
    () => new SmtpNotifier({ host: 'x', from: 'not an address' }),
    (e) => e instanceof SsprError && e.code === 'BACKEND' && e.backendKind === 'rejected',
  )
  assert.throws(() => new SmtpNotifier({ host: 'x', from: 'a@b.org', colour: 'blue' }), (e) => e.code === 'CONFIG')
})
