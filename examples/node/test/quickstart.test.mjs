// sspr-node/README.md's first example (<!-- node-quickstart -->), run as a new user runs it: saved as
// quickstart.mjs in a project that installed sspr (this one), started with `node`, and type-checked
// with `tsc --strict --checkJs` against the package's .d.ts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))

test("the README's first example runs as printed and type-checks", () => {
  const readme = readFileSync(path.join(here, '../../../sspr-node/README.md'), 'utf8')
  const snippet = readme.match(/<!-- node-quickstart -->\s*```js\n([\s\S]*?)```/)
  assert.ok(snippet, "the README's first example is marked <!-- node-quickstart -->")
  // Next to this project's node_modules, so `import ... from 'sspr'` resolves as in an app.
  const file = path.join(here, '..', 'quickstart.generated.mjs')
  writeFileSync(file, snippet[1])
  try {
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 })
    // A right PIN: no "attempts left" line; String() hides the password, reveal() has it.
    assert.deepEqual(out.trim().split('\n'), ['[REDACTED]', '16'])
    const tsc = path.join(here, '..', 'node_modules', 'typescript', 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '--strict', '--noEmit', '--allowJs', '--checkJs', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', file], { encoding: 'utf8', timeout: 120_000 })
  } finally {
    rmSync(file, { force: true })
  }
})
