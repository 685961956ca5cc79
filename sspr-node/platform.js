'use strict'
// The platform part of the addon's file name (sspr.linux-x64-gnu.node), as `napi build
// --platform` names it: install.js builds the addon under this name, native.js loads it.

function platformSuffix() {
  const { platform, arch } = process
  if (platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

module.exports = { platformSuffix }
