// Several worker processes (Node cluster workers, each with its own engine) on one SQLite file,
// racing wrong PINs at one flow: the PIN is voided after exactly `maxWrongPins` compares across
// the processes, and the right PIN is refused afterwards.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Sspr, SqliteStore, MemoryDirectory, Outbox } from '../index.js'
import { USERS, KEY, enroll, rejection } from './helpers.mjs'

const run = promisify(execFile)

test('worker processes on one SQLite file void the PIN after exactly maxWrongPins compares', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sspr-node-workers-'))
  try {
    const db = join(dir, 'sspr.db')
    const outbox = new Outbox()
    const sspr = new Sspr({
      directory: new MemoryDirectory(USERS),
      notifier: outbox,
      store: new SqliteStore(db),
      contacts: new SqliteStore(db),
      secretKey: KEY,
      policy: { minResponseMs: 0 },
    })
    await enroll(sspr)
    const { flowId } = await sspr.beginReset('jdoe@example.org')
    await sspr.sendPin(flowId, 'email')
    const pin = outbox.lastPinTo('jane@home.example')
    const wrong = String(pin) === '00000000' ? '11111111' : '00000000'
    const worker = new URL('./fixtures/wrong_pins.mjs', import.meta.url).pathname
    const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [worker, db, flowId, wrong])))
    const answers = outputs.flatMap(({ stdout }) => JSON.parse(stdout))
    const counts = {}
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1
    // Each compare counts down once (attemptsLeft 4, 3, 2, 1, each once across the processes);
    // the voiding compare answers PIN_VOIDED and every later request is refused before comparing.
    assert.deepEqual(answers.filter((a) => a.startsWith('wrong:')).sort(), ['wrong:1', 'wrong:2', 'wrong:3', 'wrong:4'], JSON.stringify(counts))
    assert.ok(counts.PIN_VOIDED >= 1, JSON.stringify(counts))
    assert.ok(Object.keys(counts).every((a) => a.startsWith('wrong:') || a === 'PIN_VOIDED' || a === 'RATE_LIMITED'), JSON.stringify(counts))
    assert.equal((await rejection(sspr.verifyPin(flowId, pin))).code, 'PIN_VOIDED')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
