// `import { pageText } from 'sspr'` (the README's "import { Sspr } from 'sspr'") must find every name
// the package exports: Node gives an ES module the names of a CommonJS module's exports only where its
// static analysis can see them, and a missing one is a SyntaxError when the importing module loads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from '../index.js'

test('every export of the package is a named export for ES modules', () => {
  const cjs = createRequire(import.meta.url)('../index.js')
  const missing = Object.keys(cjs).filter((name) => !(name in esm))
  assert.deepEqual(missing, [])
  for (const name of Object.keys(cjs)) assert.equal(esm[name], cjs[name], name)
})
