// require('sspr/express') with the engine's spans exported (`exportTraces`) to a local OTLP receiver: the router
// makes each engine call the child of the host's OpenTelemetry span (`@opentelemetry/api`'s active context),
// and never believes a client's own `traceparent` header (it would choose the trace and force sampling).
// A process of its own (node --test), so the exporter installed here is this file's only.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { AsyncLocalStorage } from 'node:async_hooks'
import { receiver, newParent } from '../../../sspr-node/__test__/otlp.mjs'

const require = createRequire(import.meta.url)
const express = require('express')
const otel = require('@opentelemetry/api')
const { Sspr, MemoryDirectory, Outbox, exportTraces } = require('sspr')
const { ssprRouter } = require('sspr/express')

const JANE = 'jdoe@example.org'
const JANE_MAIL = 'jane@home.example'

/** The host's context manager, as an OpenTelemetry SDK registers one (AsyncLocalStorage). */
class Contexts {
  #storage = new AsyncLocalStorage()
  active() {
    return this.#storage.getStore() ?? otel.ROOT_CONTEXT
  }
  with(context, fn, thisArg, ...args) {
    return this.#storage.run(context, () => fn.call(thisArg, ...args))
  }
  bind(_context, target) {
    return target
  }
  enable() {
    return this
  }
  disable() {
    return this
  }
}

let collector
let exporter

before(async () => {
  otel.context.setGlobalContextManager(new Contexts())
  collector = await receiver()
  exporter = exportTraces({ endpoint: collector.url })
})

after(async () => {
  await exporter.shutdown()
  await collector.close()
  otel.context.disable()
})

/** The router behind a middleware standing for the host's OpenTelemetry instrumentation: a request with
 * `x-test-host-span: on` runs in a server span of the host's (trace `traceId`; its span ids are kept). */
async function site() {
  const directory = new MemoryDirectory([{ login: JANE, displayName: 'Jane Doe', dn: 'uid=jdoe,ou=staff,dc=example,dc=org' }])
  const outbox = new Outbox()
  const sspr = new Sspr({ directory, notifier: outbox, secretKey: '7e'.repeat(32), policy: { minResponseMs: 0 } })
  await sspr.setEnabled({ type: 'admin', id: 'helpdesk' }, JANE, true)
  await sspr.updateContacts({ type: 'admin', id: 'helpdesk' }, JANE, { email: JANE_MAIL })
  const host = { traceId: newParent().traceId, spanIds: [] }
  const app = express()
  app.use((req, _res, next) => {
    if (req.headers['x-test-host-span'] !== 'on') return next()
    const spanId = newParent().spanId
    host.spanIds.push(spanId)
    const span = otel.trace.wrapSpanContext({ traceId: host.traceId, spanId, traceFlags: otel.TraceFlags.SAMPLED })
    otel.context.with(otel.trace.setSpan(otel.context.active(), span), next)
  })
  app.use('/password', ssprRouter({ sspr }))
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  return { base, host, close: () => new Promise((resolve) => server.close(resolve)) }
}

/** begin and send through the JSON API, keeping the flow cookie. */
async function beginAndSend(base, headers) {
  const begun = await fetch(`${base}/password/api/begin`, {
    method: 'POST',
    body: JSON.stringify({ login: JANE }),
    headers: { 'content-type': 'application/json', ...headers },
  })
  assert.equal(begun.status, 200, await begun.clone().text())
  const cookie = begun.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const sent = await fetch(`${base}/password/api/send`, {
    method: 'POST',
    body: JSON.stringify({ method: 'email' }),
    headers: { 'content-type': 'application/json', cookie, ...headers },
  })
  assert.equal(sent.status, 200, await sent.text())
}

const calls = (spans) => spans.filter((s) => s.name === 'sspr.begin_reset' || s.name === 'sspr.send_pin')

test('the Express router passes the host\'s span, not the client\'s traceparent header', async () => {
  const s = await site()
  try {
    // A client's own header and no host span: not believed, each call is a root of its own trace.
    const forged = newParent()
    await beginAndSend(s.base, { traceparent: forged.traceparent })
    await exporter.flush()
    let { spans } = collector.take()
    assert.equal(calls(spans).length, 2, spans.map((x) => x.name).join())
    for (const call of calls(spans)) {
      assert.ok(call.traceId !== forged.traceId && call.parentSpanId === '', JSON.stringify(call))
    }
    // The host's span: each engine call is its child.
    await beginAndSend(s.base, { 'x-test-host-span': 'on' })
    await exporter.flush()
    ;({ spans } = collector.take())
    assert.equal(calls(spans).length, 2, spans.map((x) => x.name).join())
    assert.deepEqual(calls(spans).map((c) => c.traceId), [s.host.traceId, s.host.traceId])
    assert.deepEqual(calls(spans).map((c) => c.parentSpanId), s.host.spanIds)
  } finally {
    await s.close()
  }
})
