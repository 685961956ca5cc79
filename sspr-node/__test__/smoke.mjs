import { Sspr, MemoryDirectory, Outbox, SsprError } from '../index.js'
const dir = new MemoryDirectory([{ login: 'jdoe@example.org', displayName: 'Jane Doe', dn: 'uid=jdoe,ou=staff,dc=example,dc=org' }])
const outbox = new Outbox()
const s = new Sspr({ directory: dir, notifier: outbox, secretKey: 'ab'.repeat(32) })
const admin = { type: 'admin', id: 'root' }
await s.setEnabled(admin, 'jdoe@example.org', true)
await s.updateContacts(admin, 'jdoe@example.org', { email: 'jane@home.example' })
const ch = await s.beginReset('jdoe@example.org')
console.log(ch)
const sent = await s.sendPin(ch.flowId, 'email')
console.log(sent)
try { await s.verifyPin(ch.flowId, '00000000') } catch (e) { console.log(e instanceof SsprError, e.code, e.attemptsLeft, e.message) }
const pin = outbox.lastPinTo('jane@home.example')
console.log(await s.verifyPin(ch.flowId, pin))
const out = await s.completeReset(ch.flowId)
console.log(out, String(out.temporaryPassword), JSON.stringify(out), out.temporaryPassword.reveal().length)
