// Replays every shared test vector (tests/vectors/*.json) through the npm package's public
// API: the same outputs as sspr-core's Rust replay (sspr-core/tests/engine/vectors.rs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { core, Policy, SsprError } from '../index.js'

const dir = fileURLToPath(new URL('../../tests/vectors/', import.meta.url))
const load = (file) => JSON.parse(readFileSync(dir + file, 'utf8'))
const REPLAYED = ['decoys.json', 'logins.json', 'masks.json', 'pins.json', 'policy.json', 'temp_passwords.json']

/** The error outputs of a refused input, as the vector files write them. */
function inputError(fn) {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof SsprError, `not an SsprError: ${e}`)
    assert.equal(e.code, 'INVALID_INPUT')
    return { error: 'invalid_input', field: e.field }
  }
  return null
}

test('every vector file is replayed here', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(files, REPLAYED)
})

test('pins.json', async (t) => {
  for (const c of load('pins.json').cases) {
    await t.test(c.name, () => {
      if (c.kind === 'generate') {
        assert.deepEqual(core.pinGenerate(c.seed, c.digits, c.count), c.pins)
      } else {
        assert.equal(c.kind, 'hash')
        assert.equal(core.pinHash(c.key, c.flow_id, c.pin), c.hash)
      }
    })
  }
})

test('temp_passwords.json', async (t) => {
  for (const c of load('temp_passwords.json').cases) {
    await t.test(c.name, () => {
      if (c.kind === 'generate') {
        const tokens = core.identityTokens(c.login, c.display_name)
        assert.deepEqual(tokens, c.tokens)
        assert.deepEqual(core.tempPasswordGenerate(c.seed, c.length, tokens, c.count), c.passwords)
      } else {
        assert.equal(c.kind, 'entropy')
        assert.ok(Math.abs(core.tempPasswordEntropyBits(c.length) - c.bits) <= 1e-9, `${c.length}`)
      }
    })
  }
})

test('decoys.json', async (t) => {
  for (const c of load('decoys.json').cases) {
    await t.test(c.name, () => {
      const policy = Policy.from(c.policy)
      assert.equal(core.normalizeLogin(c.login), c.normalized)
      assert.deepEqual(core.decoyMethods(c.key, policy, c.login), c.methods)
    })
  }
})

test('masks.json', async (t) => {
  for (const c of load('masks.json').cases) {
    await t.test(c.name, () => {
      const mask = c.kind === 'email' ? core.maskEmail : (input) => core.maskPhone(input, c.region)
      const refused = inputError(() => mask(c.input))
      if (refused) {
        assert.deepEqual(refused, { error: c.error, field: c.field })
      } else {
        assert.deepEqual(mask(c.input), { normalized: c.normalized, masked: c.masked })
      }
    })
  }
})

test('logins.json', async (t) => {
  for (const c of load('logins.json').cases) {
    await t.test(c.name, () => {
      const refused = inputError(() => core.normalizeLogin(c.input))
      if (refused) {
        assert.deepEqual(refused, { error: c.error, field: c.field })
      } else {
        assert.equal(core.normalizeLogin(c.input), c.normalized)
      }
    })
  }
})

test('policy.json', async (t) => {
  for (const c of load('policy.json').cases) {
    await t.test(c.name, () => {
      const text = c.policy_text !== undefined ? c.policy_text : JSON.stringify(c.policy)
      let policy
      try {
        policy = Policy.fromJson(text)
      } catch (e) {
        assert.ok(c.error, `refused a valid policy: ${e.message}`)
        assert.ok(e instanceof SsprError)
        assert.equal(e.code, 'CONFIG')
        assert.ok(e.message.includes(`\`${c.error.field}\``), `${e.message} does not name ${c.error.field}`)
        if (c.error.kind === 'out_of_range') assert.ok(e.message.includes(c.error.allowed), e.message)
        if (c.error.kind === 'unknown_field') assert.match(e.message, /unknown field/)
        if (c.error.kind === 'duplicate_field') assert.match(e.message, /duplicate field/)
        return
      }
      assert.ok(!c.error, `accepted a policy the vectors refuse: ${c.name}`)
      const all = policy.toJSON()
      for (const [key, value] of Object.entries(c.effective)) assert.deepEqual(all[key], value, key)
      // The camelCase form a Node user writes gives the same policy.
      if (c.policy !== undefined) {
        const camel = Object.fromEntries(
          Object.entries(c.policy).map(([k, v]) => [k.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase()), v]),
        )
        assert.deepEqual(Policy.from(camel).toJSON(), all)
      }
    })
  }
})
