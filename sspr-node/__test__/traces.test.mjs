// The engine's spans exported over OTLP/HTTP (`exportTraces`) to a local receiver (an HTTP server in this
// process, decoded by ./otlp.mjs's protobuf reader): a whole reset's spans arrive; with a `traceparent` they are
// the host span's children; nothing of the user's is in the bytes; a bad `traceparent` never fails a reset.
// The exporter is the process's (node --test runs each file in a process of its own).
import { spawnSync } from 'node:child_process'
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { exportTraces, SsprError } from '../index.js'
import { setup, enroll, pinSent } from './helpers.mjs'
import { receiver, newParent } from './otlp.mjs'

const STEPS = ['begin_reset', 'send_pin', 'verify_pin', 'complete_reset']
let collector
let exporter

before(async () => {
  collector = await receiver()
})

test('a misspelt option is CONFIG naming it, and installs nothing; then the exporter is installed', () => {
  // `sampleRate` for `sampleRatio` was read as absent: every trace exported, and the pipeline
  // installed, so the call with the right spelling then failed as "once per process".
  assert.throws(
    () => exportTraces({ endpoint: collector.url, sampleRate: 0.5 }),
    (e) => e instanceof SsprError && e.code === 'CONFIG' && /unknown option `sampleRate`/.test(e.message),
  )
  exporter = exportTraces({ endpoint: collector.url, serviceName: 'sspr-node-tests' })
})

test('a refused setting is named as the option the caller gave', () => {
  // The check is the portal's (sspr-backends' otlp), which named its config keys
  // (`otlp_endpoint`, `otlp_sample_ratio`). In a child process: this one has its exporter
  // installed, and a second call is refused before the settings are read.
  const script = `
    import { exportTraces } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)}
    for (const options of [{ endpoint: 'collector:4318' }, { endpoint: 'http://c/v1/traces', sampleRatio: 2 },
      { endpoint: 'http://c/v1/traces', serviceName: ' ' }]) {
      try { exportTraces(options); console.log('installed') } catch (e) { console.log(e.code, e.message) }
    }
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  const lines = run.stdout.trim().split('\n')
  assert.equal(lines.length, 3, run.stdout)
  assert.match(lines[0], /^CONFIG configuration error: endpoint = .* is not an http\(s\):\/\/ URL/)
  assert.match(lines[1], /^CONFIG configuration error: sampleRatio = 2 /)
  assert.match(lines[2], /^CONFIG configuration error: serviceName /)
  assert.doesNotMatch(run.stdout, /otlp/)
})

after(async () => {
  await exporter.shutdown()
  await collector.close()
})

/** A whole reset, the i-th call with `contexts[i]`; returns the PIN and the temporary password. */
async function reset(contexts = []) {
  const t = setup()
  await enroll(t.sspr)
  const ctx = (i) => contexts[i] ?? null
  const challenge = await t.sspr.beginReset('jdoe@example.org', ctx(0))
  await t.sspr.sendPin(challenge.flowId, 'email', null, ctx(1))
  await t.sspr.flushDeliveries()
  const pin = t.outbox.lastPinTo('jane@home.example')
  assert.ok(pin)
  assert.ok((await t.sspr.verifyPin(challenge.flowId, pin, ctx(2))).modes.includes('temporary'))
  const outcome = await t.sspr.completeReset(challenge.flowId, null, ctx(3))
  await t.sspr.flushDeliveries()
  return { pin, temporary: outcome.temporaryPassword.reveal() }
}

const named = (spans, name) => spans.filter((s) => s.name === name)

test('a whole reset: its spans arrive, one per call, and carry nothing of the user\'s', async () => {
  await exporter.flush()
  collector.take()
  const { pin, temporary } = await reset()
  await exporter.flush()
  const { raw, spans, resources } = collector.take()
  assert.ok(collector.contentTypes.every((t) => t === 'application/x-protobuf'), collector.contentTypes.join())
  // Nothing of the user's anywhere in the bytes sent.
  for (const secret of ['jdoe', 'example.org', 'jane@home.example', 'home.example', pin, temporary]) {
    assert.ok(!raw.includes(Buffer.from(secret)), secret)
  }
  const flows = new Set()
  for (const step of STEPS) {
    const calls = named(spans, `sspr.${step}`)
    assert.equal(calls.length, 1, spans.map((s) => s.name).join())
    assert.equal(calls[0].attributes['sspr.step'], step)
    assert.equal(calls[0].attributes['sspr.outcome'], 'ok')
    assert.equal(calls[0].parentSpanId, '', 'no parent given: a root span')
    flows.add(calls[0].attributes['sspr.flow'])
  }
  assert.equal(flows.size, 1)
  assert.ok([...flows][0].length >= 16)
  const [sendPin] = named(spans, 'sspr.send_pin')
  const delivery = named(spans, 'sspr.delivery').find((d) => d.parentSpanId === sendPin.spanId)
  assert.ok(delivery && delivery.traceId === sendPin.traceId, 'the PIN\'s delivery is in send_pin\'s trace')
  // The default: no span per backend call.
  assert.ok(spans.every((s) => s.name.startsWith('sspr.') && s.attributes['sspr.backend'] === undefined))
  assert.deepEqual(new Set(resources.map((r) => r['service.name'])), new Set(['sspr-node-tests']))
})

test('with a traceparent each engine call is the host span\'s child, in its trace', async () => {
  const parents = STEPS.map(() => newParent())
  const { pin, temporary } = await reset(parents.map((p) => ({ clientIp: '192.0.2.1', traceparent: p.traceparent })))
  await exporter.flush()
  const { raw, spans } = collector.take()
  STEPS.forEach((step, i) => {
    const calls = named(spans, `sspr.${step}`).filter((s) => s.traceId === parents[i].traceId)
    assert.equal(calls.length, 1, `${step}: ${JSON.stringify(spans)}`)
    assert.equal(calls[0].parentSpanId, parents[i].spanId, step)
  })
  const sendPin = named(spans, 'sspr.send_pin').find((s) => s.traceId === parents[1].traceId)
  assert.ok(named(spans, 'sspr.delivery').some((d) => d.parentSpanId === sendPin.spanId && d.traceId === parents[1].traceId))
  for (const secret of ['jdoe', 'jane@home.example', '192.0.2.1', pin, temporary]) {
    assert.ok(!raw.includes(Buffer.from(secret)), secret)
  }
})

test('a bad traceparent is ignored: the reset completes, its calls are roots', async () => {
  const { traceId, spanId } = newParent()
  for (const bad of [
    'garbage',
    '',
    `ff-${traceId}-${spanId}-01`,
    `00-${traceId.toUpperCase()}-${spanId}-01`,
    ` 00-${traceId}-${spanId}-01`,
    `00-${traceId}-${spanId}-01-extra`,
    `00-${'0'.repeat(32)}-${spanId}-01`,
    `00-${traceId}-${'0'.repeat(16)}-01`,
    `00-${traceId}-${spanId}-zz`,
  ]) {
    const ctx = { traceparent: bad }
    await reset([ctx, ctx, ctx, ctx])
    await exporter.flush()
    const { spans } = collector.take()
    for (const step of STEPS) {
      const calls = named(spans, `sspr.${step}`)
      assert.equal(calls.length, 1, `${bad}: ${step}`)
      assert.ok(calls[0].traceId !== traceId && calls[0].parentSpanId === '', `${bad}: ${step}`)
    }
  }
})

test('an unsampled parent\'s calls are not exported (the sampler follows the parent)', async () => {
  const parent = newParent(false)
  const ctx = { traceparent: parent.traceparent }
  await reset([ctx, ctx, ctx, ctx])
  await exporter.flush()
  const { spans } = collector.take()
  assert.deepEqual(spans.filter((s) => s.traceId === parent.traceId), [])
})

test('a second exportTraces throws CONFIG', () => {
  assert.throws(() => exportTraces({ endpoint: collector.url }), (e) => e instanceof SsprError && e.code === 'CONFIG' && /once per process/.test(e.message))
})
