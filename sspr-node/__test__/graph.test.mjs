// The Microsoft Graph directory and contact store through backends.fromConfig, the portal's
// schema, against the Graph/Entra stand-in as a process (sspr-graph-standin, which
// scripts/test.d/50-node.sh builds and names in SSPR_GRAPH_STANDIN). Graph itself is
// unreachable from the test machine: verified against the stand-in only.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Sspr, backends } from '../index.js'
import { ADMIN, KEY, rejection, resetByOutbox } from './helpers.mjs'

const ADA = 'ada@contoso.example'
const ADA_ID = '0a0a0a0a-0000-4000-8000-00000000ada0'
const APP_SECRET = 'graph~app-secret'
const dir = mkdtempSync(join(tmpdir(), 'sspr-node-graph-'))
let standin
let url

before(async () => {
  const binary = process.env.SSPR_GRAPH_STANDIN
  assert.ok(binary, 'SSPR_GRAPH_STANDIN is not set: run this suite via ./scripts/test.sh node')
  writeFileSync(
    join(dir, 'tenant.json'),
    JSON.stringify({
      client_id: 'sspr-graph-app',
      client_secret: APP_SECRET,
      users: [
        { id: ADA_ID, upn: ADA, display_name: 'Ada Lovelace', groups: ['SSPR Users'] },
        {
          upn: 'root@contoso.example',
          display_name: 'Root',
          roles: [{ name: 'Global Administrator', template: '62e90394-69f5-4237-9190-012177145e10' }],
        },
      ],
    }),
  )
  const log = join(dir, 'standin.log')
  const out = openSync(log, 'w')
  standin = spawn(binary, ['--seed', join(dir, 'tenant.json'), '--key-dir', dir], { stdio: ['ignore', out, out] })
  for (let i = 0; i < 600 && !readFileSync(log, 'utf8').startsWith('listening on '); i++) await sleep(50)
  const first = readFileSync(log, 'utf8').split('\n')[0]
  assert.match(first, /^listening on http:\/\/127\.0\.0\.1:\d+\/$/, readFileSync(log, 'utf8'))
  url = first.split(' ')[2].replace(/\/$/, '')
})

after(() => standin?.kill())

const config = (secret = APP_SECRET) => ({
  directory: {
    kind: 'graph',
    tenantId: 'contoso.onmicrosoft.com',
    clientId: 'sspr-graph-app',
    clientSecret: secret,
    authorityUrl: url,
    graphUrl: url,
  },
  contacts: { kind: 'graph' },
  store: { kind: 'sqlite', path: join(dir, `sspr-${Date.now()}.sqlite`) },
})

test('a whole reset on the Graph directory and contact store', async () => {
  const b = await backends.fromConfig(config())
  assert.ok(b.outbox)
  const sspr = new Sspr({ ...b, secretKey: KEY, policy: { minResponseMs: 0 } })
  await sspr.setEnabled(ADMIN, ADA, true)
  // Written to Ada's Entra e-mail methods, read back from there.
  await sspr.updateContacts(ADMIN, ADA, { email: 'ada@home.example' })
  assert.equal((await sspr.contacts(ADA)).email?.value, 'ada@home.example')
  const status = await sspr.status(ADA)
  assert.deepEqual([status.userId, status.displayName, status.privileged], [ADA_ID, 'Ada Lovelace', false])
  // The password is set through passwordProfile (the stand-in refuses a password below Entra's complexity).
  await resetByOutbox(sspr, b.outbox, ADA, 'ada@home.example', 'the PIN went to the address held as an Entra method')
})

test('a directory role makes an account privileged; a wrong client secret is a BACKEND error without it', async () => {
  const b = await backends.fromConfig(config())
  const sspr = new Sspr({ ...b, secretKey: KEY, policy: { minResponseMs: 0 } })
  assert.equal((await sspr.status('root@contoso.example')).privileged, true)
  const wrong = await backends.fromConfig(config('not-the-secret'))
  const w = new Sspr({ ...wrong, secretKey: KEY, policy: { minResponseMs: 0 } })
  const e = await rejection(w.status(ADA))
  assert.deepEqual([e.code, e.backendKind], ['BACKEND', 'rejected'])
  assert.ok(!String(e.message).includes('not-the-secret') && !JSON.stringify(e).includes('not-the-secret'))
})
