// The engine's metrics for a Node host: `metrics: true` and `metricsText()` (Prometheus text
// for the host's scrape endpoint).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setup, enroll, pinSent } from './helpers.mjs'

/** The value of the series written exactly as `series` (name and labels), 0 if absent. */
function value(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

test('a reset moves the counters and the histograms, and no identifier is a label', async () => {
  const t = setup({ metrics: true })
  await enroll(t.sspr)
  // The registry is the process's: compare with what was counted before this reset.
  const before = t.sspr.metricsText()
  const { flowId, pin } = await pinSent(t)
  await t.sspr.flushDeliveries()
  await t.sspr.verifyPin(flowId, pin)
  await t.sspr.completeReset(flowId)
  await t.sspr.flushDeliveries()
  const text = t.sspr.metricsText()
  const moved = (series) => value(text, series) - value(before, series)

  assert.equal(moved('sspr_begins_total{result="real",decoy_reason="none"}'), 1, text)
  assert.equal(moved('sspr_pins_sent_total{channel="email",result="real"}'), 1, text)
  assert.equal(moved('sspr_completions_total{mode="temporary",outcome="success"}'), 1, text)
  for (const op of ['begin_reset', 'send_pin', 'verify_pin', 'complete_reset']) {
    assert.equal(moved(`sspr_engine_call_seconds_count{operation="${op}"}`), 1, `${op}\n${text}`)
  }
  assert.equal(moved('sspr_backend_call_seconds_count{backend="directory",operation="set_password"}'), 1, text)
  // The PIN, then the "your password was reset" notice.
  assert.equal(moved('sspr_backend_call_seconds_count{backend="notifier",operation="send"}'), 2, text)
  assert.ok(text.includes('# TYPE sspr_engine_call_seconds histogram'), text)
  assert.match(text, /^sspr_engine_call_seconds_bucket\{operation="begin_reset",le="\+Inf"\} \d+$/m)
  for (const identifier of ['jdoe', 'jane@home.example', flowId, pin]) {
    assert.ok(!text.includes(identifier), identifier)
  }
})
