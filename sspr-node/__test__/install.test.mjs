// `npm install <path>/sspr-node` in a fresh Node project builds the addon (release, with
// cargo) and installs the package, which then works: README, "Install".
//
// npm links a directory dependency, so the build writes its addon into the package
// directory itself. The test therefore installs from a copy of this checkout (its tracked
// and untracked, not ignored files: about 3.5 MB), so the debug build the other tests load
// is never replaced under them. The copy lives at a fixed place inside the cargo target dir
// (CARGO_TARGET_DIR, else this checkout's target/) and builds into that target dir: tar keeps
// the files' times, so a second run with unchanged sources compiles nothing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../', import.meta.url))

test('npm install <path>/sspr-node builds the addon in release mode and the package works', { timeout: 30 * 60 * 1000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sspr-npm-install-'))
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target')
  const checkout = path.join(target, 'npm-install-test', 'checkout')
  try {
    rmSync(checkout, { recursive: true, force: true })
    mkdirSync(checkout, { recursive: true })
    const files = execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: repo })
    const archive = execFileSync('tar', ['-c', '--null', '--ignore-failed-read', '-T', '-', '-f', '-'], {
      cwd: repo,
      input: files,
      maxBuffer: 1 << 30,
    })
    execFileSync('tar', ['-x', '-f', '-'], { cwd: checkout, input: archive })
    assert.ok(!existsSync(path.join(checkout, 'sspr-node', 'sspr.linux-x64-gnu.node')), 'the copy must start without an addon')

    const app = path.join(dir, 'app')
    mkdirSync(app)
    execFileSync('npm', ['init', '-y'], { cwd: app, stdio: 'ignore' })
    const env = { ...process.env, CARGO_TARGET_DIR: target }
    execFileSync('npm', ['install', '--no-audit', '--no-fund', path.join(checkout, 'sspr-node')], {
      cwd: app,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    })

    // The installed package, from the new project: a reset flow on the in-memory backends, and
    // no test hooks (the npm build leaves the cargo feature `vectors` out).
    const script = `
      const { Sspr, MemoryDirectory, Outbox, core, testing } = require('sspr')
      const sspr = new Sspr({ directory: new MemoryDirectory([]), notifier: new Outbox(), secretKey: 'ab'.repeat(32), policy: { minResponseMs: 0 } })
      sspr.beginReset('nobody@example.org').then((c) => {
        console.log(JSON.stringify({ flowId: c.flowId.length, core: core === undefined, testing: typeof testing.checkStateStore }))
      })`
    const out = JSON.parse(execFileSync('node', ['-e', script], { cwd: app, encoding: 'utf8' }))
    assert.deepEqual(out, { flowId: 32, core: true, testing: 'function' })
    const built = readFileSync(path.join(checkout, 'sspr-node', 'sspr.linux-x64-gnu.node'))
    const release = readFileSync(path.join(env.CARGO_TARGET_DIR, 'release', 'libsspr_node.so'))
    assert.ok(built.equals(release), 'the installed addon is the release build')
  } finally {
    rmSync(dir, { recursive: true, force: true })
    rmSync(path.join(checkout, 'sspr-node', 'sspr.linux-x64-gnu.node'), { force: true })
  }
})
