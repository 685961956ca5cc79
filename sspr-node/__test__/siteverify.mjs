// A local stand-in of a bot challenge provider's siteverify (the real endpoints cannot be reached from
// the test machines), speaking the providers' documented shape: a form with `secret`, `response`,
// `remoteip` (and `sitekey` for hCaptcha) in; `{ success, hostname, error-codes }` out. GOOD passes for
// reset.example.org, any other token is `invalid-input-response`; `down = true` answers 503. Shared by
// __test__/bot_challenge.test.mjs and the Express router's tests (examples/node/test/).
import { createServer } from 'node:http'

export const GOOD = 'stand-in-good-token-4e2'
export const SITE_KEY = '0x4AAA-site'
export const SECRET = '0x4AAA-s3cret'

export async function siteverify() {
  const stand = { forms: [], down: false }
  stand.server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => {
      body += chunk
    })
    req.on('end', () => {
      const form = Object.fromEntries(new URLSearchParams(body))
      stand.forms.push(form)
      if (stand.down) {
        res.writeHead(503, { 'content-type': 'application/json' })
        return res.end('{"error":"stand-in down"}')
      }
      const ok = form.response === GOOD
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ success: ok, hostname: 'reset.example.org', 'error-codes': ok ? [] : ['invalid-input-response'] }))
    })
  })
  await new Promise((resolve) => stand.server.listen(0, '127.0.0.1', resolve))
  stand.url = `http://127.0.0.1:${stand.server.address().port}/siteverify`
  /** The `botChallenge` table of `backends.fromConfig` checking tokens here. */
  stand.config = (provider = 'turnstile', more = {}) => ({
    provider, siteKey: SITE_KEY, secret: SECRET, verifyUrl: stand.url, hostnames: ['reset.example.org'], ...more,
  })
  stand.close = () => new Promise((resolve) => stand.server.close(resolve))
  return stand
}
