'use strict'
// Whole reset flows per second through the npm package (built-in in-memory backends), side
// by side in one run with otplib's bare HOTP code pair (hotp.generate + hotp.check), and the
// same flow with a JavaScript notifier side by side with the built-in one (issue 17: flow
// >= 1.2x otplib; JavaScript notifier >= 0.5x the built-in one).
// Writes its section of BENCHMARKS.md with `--write`.
//
//   npm run build:release && node bench/flow.js --write      (the release addon with the test hooks)

const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')
const { hotp } = require('otplib')
const { Sspr, MemoryDirectory, MemoryContactStore, MemoryStateStore, Outbox, ManualClock, core } = require('..')

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const FLOWS = Number(process.env.FLOWS ?? 2000)
const PAIRS = Number(process.env.PAIRS ?? 20000)
const USERS = 50

function engine(notifier) {
  const users = Array.from({ length: USERS }, (_, i) => ({ login: `user${i}@example.org`, displayName: `User ${i}`, dn: `uid=user${i},dc=example,dc=org` }))
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'))
  const sspr = new Sspr({
    directory: new MemoryDirectory(users),
    contacts: new MemoryContactStore(),
    store: new MemoryStateStore(),
    notifier,
    clock,
    secretKey: '42'.repeat(32),
  })
  return { sspr, clock, users }
}

async function setup(notifier) {
  const e = engine(notifier)
  const admin = { type: 'admin', id: 'bench' }
  for (const u of e.users) {
    await e.sspr.setEnabled(admin, u.login, true)
    await e.sspr.updateContacts(admin, u.login, { email: `${u.login.split('@')[0]}@home.example` })
  }
  return e
}

/** `n` whole flows: begin, send, read the PIN, verify, complete with a temporary password. */
async function flows(e, n, pinOf, clear) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const u = e.users[i % USERS]
    const address = `${u.login.split('@')[0]}@home.example`
    const c = await e.sspr.beginReset(u.login)
    await e.sspr.sendPin(c.flowId, 'email')
    let pin = pinOf(address)
    if (pin === undefined || pin === null) {
      // Delivered off the request path and not there yet: wait for the notifier, as a user
      // waits for the message.
      await e.sspr.flushDeliveries()
      pin = pinOf(address)
    }
    await e.sspr.verifyPin(c.flowId, pin)
    const out = await e.sspr.completeReset(c.flowId)
    if (!out.temporaryPassword) throw new Error('no temporary password')
    if (i % USERS === USERS - 1) {
      e.clock.advance(3601) // a new hour: per-user send limits start again
      clear()
    }
  }
  return Number(process.hrtime.bigint() - started) / 1e9
}

/** Seconds for `n` trivial napi calls (a short string in, a string out): the floor of one call. */
function napiCalls(n) {
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) core.normalizeLogin('jdoe@example.org')
  return Number(process.hrtime.bigint() - started) / 1e9
}

function otplibPairs(n) {
  const secret = 'JBSWY3DPEHPK3PXP'
  let ok = 0
  const started = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const token = hotp.generate(secret, i)
    if (hotp.check(token, secret, i)) ok++
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9
  if (ok !== n) throw new Error('otplib check failed')
  return secs
}

async function main() {
  const outbox = new Outbox()
  const builtIn = await setup(outbox)
  const sent = []
  const jsNotifier = { send: async (n) => void sent.push(n) }
  const js = await setup(jsNotifier)
  const lastPin = (address) => {
    for (let i = sent.length - 1; i >= 0; i--) if (sent[i].to === address && sent[i].pin) return sent[i].pin
    return undefined
  }
  // Warm up.
  await flows(builtIn, 200, (a) => outbox.lastPinTo(a), () => outbox.clear())
  await flows(js, 50, lastPin, () => (sent.length = 0))
  otplibPairs(2000)

  const rows = []
  for (let r = 0; r < ROUNDS; r++) {
    const otp = PAIRS / otplibPairs(PAIRS)
    const mem = FLOWS / (await flows(builtIn, FLOWS, (a) => outbox.lastPinTo(a), () => outbox.clear()))
    const jsRate = FLOWS / 4 / (await flows(js, FLOWS / 4, lastPin, () => (sent.length = 0)))
    const call = PAIRS / napiCalls(PAIRS)
    const rust = FLOWS / core.referenceFlows(FLOWS)
    rows.push({ otp, mem, jsRate, call, rust })
    console.log(
      `round ${r + 1}: otplib pairs/s ${otp.toFixed(0)}, sspr flows/s ${mem.toFixed(0)} (ratio ${(mem / otp).toFixed(2)}), ` +
        `with a JS notifier ${jsRate.toFixed(0)}/s (ratio to built-in ${(jsRate / mem).toFixed(2)})`,
    )
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const otp = median(rows.map((r) => r.otp))
  const mem = median(rows.map((r) => r.mem))
  const jsRate = median(rows.map((r) => r.jsRate))
  const call = median(rows.map((r) => r.call))
  const rust = median(rows.map((r) => r.rust))
  const ratios = rows.map((r) => r.mem / r.otp)
  const jsRatios = rows.map((r) => r.jsRate / r.mem)
  const summary = {
    otp,
    mem,
    jsRate,
    call,
    rust,
    ratio: median(ratios),
    minRatio: Math.min(...ratios),
    maxRatio: Math.max(...ratios),
    jsRatio: median(jsRatios),
    minJsRatio: Math.min(...jsRatios),
    maxJsRatio: Math.max(...jsRatios),
  }
  console.log(summary)
  if (process.argv.includes('--write')) write(summary)
}

function verdict(s) {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ')
  const engine = 1e6 / s.rust
  const added = 1e6 / s.mem - engine
  return [
    `Targets (issue 17): whole flow >= 1.2x otplib, **${s.ratio >= 1.2 ? 'met' : 'not met'}** (${s.ratio.toFixed(2)}); JavaScript notifier >= 0.5x`,
    `the built-in one, **${s.jsRatio >= 0.5 ? 'met' : 'not met'}** (${s.jsRatio.toFixed(2)}). Load average ${load} on ${os.cpus().length} cores while this ran`,
    '(other engineers building): every line is slowed and the rounds spread widely; only ratios within one run count.',
    `The engine alone (the same flows driven from Rust) takes ${engine.toFixed(1)} µs per flow here; the binding adds`,
    `${added.toFixed(1)} µs per flow over its five calls (arguments converted, the engine future boxed and polled once,`,
    'each answer object built through napi).',
  ].join('\n')
}

function write(s) {
  const file = path.join(__dirname, '..', '..', 'BENCHMARKS.md')
  const start = '<!-- sspr-node:start -->'
  const end = '<!-- sspr-node:end -->'
  const section = `${start}
## 8. \`sspr-node\`: whole flows against otplib's code pair, and a JavaScript notifier against the built-in one

\`node sspr-node/bench/flow.js --write\` (release addon, Node ${process.version}, ${os.cpus().length} cores shared, ${new Date().toISOString().slice(0, 10)}),
${ROUNDS} interleaved rounds in one process, medians:

| what | per second | µs each |
| --- | ---: | ---: |
| otplib \`hotp.generate\` + \`hotp.check\` (a bare code pair) | ${s.otp.toFixed(0)} | ${(1e6 / s.otp).toFixed(1)} |
| sspr whole flow, built-in in-memory backends: \`beginReset\` + \`sendPin\` + read PIN + \`verifyPin\` + \`completeReset\` (temporary password) | ${s.mem.toFixed(0)} | ${(1e6 / s.mem).toFixed(1)} |
| the same flows driven from Rust inside one call (\`core.referenceFlows\`): the engine alone | ${s.rust.toFixed(0)} | ${(1e6 / s.rust).toFixed(1)} |
| one trivial napi call (\`core.normalizeLogin\`), for scale | ${s.call.toFixed(0)} | ${(1e6 / s.call).toFixed(2)} |
| the same flow with a JavaScript \`async\` notifier instead of the built-in \`Outbox\` | ${s.jsRate.toFixed(0)} | ${(1e6 / s.jsRate).toFixed(1)} |

**Ratio (sspr whole flows / otplib pairs): ${s.ratio.toFixed(2)}** (rounds: ${s.minRatio.toFixed(2)}–${s.maxRatio.toFixed(2)}).
**Ratio (flows with the JavaScript notifier / with the built-in one): ${s.jsRatio.toFixed(2)}** (rounds: ${s.minJsRatio.toFixed(2)}–${s.maxJsRatio.toFixed(2)}).
${verdict(s)}

How: each operation polls the engine's future once on the JavaScript thread (\`sspr-node/src/runtime.rs\`). With
built-in in-memory backends it completes there, and the answer is returned without a thread hop or a
napi Promise (the JavaScript \`async\` method wraps it). JavaScript backends are called directly during that
poll (no threadsafe-function hop through the event loop); only an operation that is really pending (an \`async\`
JavaScript method, SQLite's thread, Redis) goes to the tokio runtime, where later JavaScript calls go through
a weak threadsafe function. A delivery waiting for an \`async\` JavaScript notifier stays on the JavaScript thread
(\`sspr-node/src/local.rs\`): polled in a microtask after the call answered, then again each time the notifier's
Promise settles; only a delivery woken from another thread (a retry's timer, a network notifier) moves to tokio.
${end}`
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  text = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text.trimEnd()}\n\n${section}\n`
  fs.writeFileSync(file, text)
  console.log(`wrote ${file}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
