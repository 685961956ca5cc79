'use strict'
// `npm install <path>/sspr-node` in another project: build the addon in release mode with
// cargo (Rust must be installed) and put it where native.js loads it from. The npm package
// build has the default cargo features (every built-in backend) and not `vectors` (the test
// hooks). Inside this package's own checkout (`npm ci` here) nothing is built: developers
// build with `npm run build`, which also regenerates native.js and native.d.ts.
//
// CARGO_TARGET_DIR is honoured, so a second install reuses the first one's build.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformSuffix } = require('./platform.js')

const here = fs.realpathSync(__dirname)
if (!fs.existsSync(path.join(here, 'Cargo.toml'))) process.exit(0) // a packed package: the addon comes with it
const initCwd = process.env.INIT_CWD && fs.existsSync(process.env.INIT_CWD) ? fs.realpathSync(process.env.INIT_CWD) : null
if (initCwd === here) {
  console.log('sspr: development checkout, nothing built by npm install (use `npm run build`)')
  process.exit(0)
}

const cargo = process.env.CARGO || 'cargo'
const args = [
  'build',
  '--release',
  '--lib',
  '--manifest-path',
  path.join(here, 'Cargo.toml'),
  '--message-format=json-render-diagnostics',
]
const build = spawnSync(cargo, args, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 })
if (build.error) {
  console.error(`sspr: could not run ${cargo} (${build.error.message}); building sspr needs Rust: https://rustup.rs`)
  process.exit(1)
}
if (build.status !== 0) {
  console.error(`sspr: cargo build --release failed (exit ${build.status})`)
  process.exit(build.status || 1)
}

// The cdylib cargo built, as cargo itself reports it (wherever the target dir is).
let library = null
for (const line of build.stdout.toString('utf8').split('\n')) {
  if (!line.startsWith('{')) continue
  const message = JSON.parse(line)
  if (message.reason === 'compiler-artifact' && message.target?.name === 'sspr_node') {
    library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) ?? library
  }
}
if (!library) {
  console.error('sspr: cargo did not report the sspr_node library')
  process.exit(1)
}
const destination = path.join(here, `sspr.${platformSuffix()}.node`)
// Copy, then rename over the old file: a process that has the old addon loaded keeps its copy.
const partial = `${destination}.${process.pid}.partial`
fs.copyFileSync(library, partial)
fs.renameSync(partial, destination)
console.log(`sspr: built ${destination}`)
