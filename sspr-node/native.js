'use strict'
// The native addon, loaded from beside this file, where `npm run build` (`napi build
// --platform`) or install.js (`npm install <path>/sspr-node`) puts it for this platform. The
// package is built from source on the machine that runs it, so this loader is written by
// hand instead of napi's generated one, which searches every prebuilt platform package and
// the WASI fallbacks for a build that cannot be there.
const { platformSuffix } = require('./platform.js')

module.exports = require(`./sspr.${platformSuffix()}.node`)
