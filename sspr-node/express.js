'use strict'
// `require('sspr/express')`: the anonymous reset flow as Express middleware.
//
//   const { ssprRouter } = require('sspr/express')
//   app.use('/password', ssprRouter({ sspr }))
//
// Under the mount: server-rendered pages without script (`GET /`, then the forms it leads to) and the
// same flow as JSON for a single-page front end (`POST /api/begin`, `/api/send`, `/api/verify`,
// `/api/complete`). It owns only the web layer, as the Python router does (docs/ARCHITECTURE.md,
// "Framework routers"): where the flow id is kept (an HttpOnly, SameSite=Strict cookie scoped to the
// mount, never in a page, URL or JSON answer), the forms' CSRF tokens and the JSON API's media-type and
// Origin checks, and which HTTP status each of the engine's error codes gets. The client's address is
// Express's `req.ip`, so the app's `trust proxy` setting decides whom X-Forwarded-For is believed from.
// It needs no body parser: it reads its own bodies (16 KiB at most) unless one already ran.
//
// A bot challenge (the engine's `botChallenge`): the router asks the engine what the widget needs
// (`sspr.challengeWidget(PAGE_CSP)`) and reads no configuration itself. The start page shows the
// provider's widget when every begin needs it (policy `always`; with `after_begins`, once a begin was
// refused for it), and only that page's CSP allows the provider's documented sources; without a
// challenge every page stays script-free. The form's `cf-turnstile-response` / `h-captcha-response` /
// `g-recaptcha-response`, or the JSON API's `challenge_token`, is passed to `beginReset`.
const { randomBytes, timingSafeEqual } = require('node:crypto')
const { SsprError } = require('./index.js')

const FLOW_COOKIE = 'sspr_flow'
const CSRF_COOKIE = 'sspr_csrf'
const MAX_BODY = 16 * 1024
// Longer than any login, address, PIN or password sspr accepts: refused before it reaches the engine.
const MAX_FIELD = 1024

const API_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }
// No script, no style, no frame, nothing from elsewhere; the widget's page adds exactly its provider's sources.
const PAGE_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': PAGE_CSP,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}
const CHANNEL_NAMES = { email: 'e-mail', sms: 'text message' }
// The JSON API's field for the widget's token; the longest one read (the engine refuses over 4096 bytes).
const CHALLENGE_FIELD = 'challenge_token'
const MAX_CHALLENGE_FIELD = 8192
// What a user is told when the bot challenge refused a begin, by the error's `reason`.
const CHALLENGE_MESSAGES = {
  required: 'Please confirm that you are not a robot, then try again.',
  failed: 'The check that you are not a robot did not pass. Please try again.',
  unavailable: 'The check that you are not a robot is unavailable right now. Please try again later.',
}
const MODE_LABELS = { temporary: 'Get a temporary password', chosen: 'Choose a new password', unlock_only: 'Only unlock my account' }

/** A request refused before it reached the engine (nothing changed), or an engine error described for a user. */
class Refusal {
  constructor(status, code, message, extra = {}) {
    Object.assign(this, { status, code, message, extra })
  }
}

/** What a user is told for each of sspr's errors (sspr's messages hold no secret; these hold less). */
function describe(e) {
  if (e instanceof Refusal) return e
  if (!(e instanceof SsprError)) throw e
  const code = String(e.code).toLowerCase()
  switch (e.code) {
    case 'WRONG_PIN':
      return new Refusal(400, code, `Wrong code: ${e.attemptsLeft ?? 0} attempt(s) left.`, { attempts_left: e.attemptsLeft ?? 0 })
    case 'RATE_LIMITED': {
      const wait = Math.max(1, Math.ceil(e.retryAfter ?? 60))
      return new Refusal(429, code, `Too many requests. Try again in ${wait} seconds.`, { retry_after_seconds: wait })
    }
    case 'BLOCKED': {
      const until = e.blockedUntil instanceof Date ? e.blockedUntil.toISOString() : undefined
      return new Refusal(403, code, `Self-service reset is blocked until ${until ? until.slice(0, 16).replace('T', ' ') + ' UTC' : 'later'}.`, { until })
    }
    case 'EXPIRED':
    case 'PIN_VOIDED':
    case 'ALREADY_USED':
      return new Refusal(410, code, 'This reset has ended. Please start again.')
    case 'INVALID_STATE':
      return new Refusal(409, code, 'That step is not possible now. Please start again.')
    case 'INVALID_INPUT':
      return new Refusal(400, code, `Please check your input (${e.field ?? 'input'}).`, { field: e.field })
    case 'PASSWORD_REJECTED':
      return new Refusal(400, code, `That password was refused: ${e.reason ?? ''}`, { reason: e.reason })
    case 'CHALLENGE': {
      // A stable code per reason: a front end shows the widget for `challenge_required` and
      // `challenge_failed`, and "try later" for `challenge_unavailable` (the provider's outage: 503).
      const reason = Object.hasOwn(CHALLENGE_MESSAGES, e.reason) ? e.reason : 'failed'
      return new Refusal(reason === 'unavailable' ? 503 : 403, `challenge_${reason}`, CHALLENGE_MESSAGES[reason], { reason })
    }
    case 'BACKEND':
      return new Refusal(503, code, 'The service is unavailable right now. Please try again later.')
    default:
      return new Refusal(403, code, 'This is not possible here. Please contact the help desk.')
  }
}

const noFlow = () => new Refusal(410, 'expired', 'This reset has ended. Please start again.')

function text(data, name, required = true) {
  const value = data[name]
  if ((value === undefined || value === null || value === '') && !required) return null
  if (typeof value !== 'string' || value.length > MAX_FIELD) {
    throw new Refusal(400, 'invalid_input', `Please check your input (${name}).`, { field: name })
  }
  return value
}

function challengeToken(data, name) {
  const value = data[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string' || value.length > MAX_CHALLENGE_FIELD) {
    throw new Refusal(400, 'invalid_input', `Please check your input (${name}).`, { field: name })
  }
  return value
}

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function cookies(req) {
  const jar = {}
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at <= 0) continue
    try {
      jar[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim())
    } catch {
      // A malformed %-escape in someone else's cookie: not ours, skip it.
    }
  }
  return jar
}

function sameToken(a, b) {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y)
}

/** Read the body once (unless a body parser did): parsed JSON or form fields, or a Refusal. */
function readBody(req) {
  if (req.body !== undefined && req._body) return Promise.resolve({ parsed: req.body })
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    const onData = (chunk) => {
      size += chunk.length
      if (size <= MAX_BODY) return chunks.push(chunk)
      // Stop reading (the answer closes the connection) rather than buffer what the client keeps sending.
      req.off('data', onData)
      req.pause()
      reject(new Refusal(413, 'invalid_input', 'The request is too large.', { field: 'body' }))
    }
    req.on('data', onData)
    req.on('end', () => resolve({ raw: Buffer.concat(chunks).toString('utf8') }))
    req.on('error', reject)
  })
}

function mediaType(req) {
  return String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
}

/**
 * The reset flow as Express middleware: `app.use('/password', ssprRouter({ sspr }))`.
 * See express.d.ts for the options.
 */
function ssprRouter(options) {
  const { sspr, pages = true, allowedOrigins = [], secureCookies, layout = defaultLayout } = options ?? {}
  if (!sspr || typeof sspr.beginReset !== 'function') throw new TypeError('ssprRouter: options.sspr must be an Sspr engine')
  // What the bot challenge's widget needs, as the engine says (null: no challenge, no script anywhere).
  const widget = typeof sspr.challengeWidget === 'function' ? sspr.challengeWidget(PAGE_CSP) : null

  const mount = (req) => req.baseUrl || '/'
  const context = (req, challengeToken) => ({
    clientIp: req.ip ?? req.socket?.remoteAddress,
    userAgent: req.headers['user-agent'],
    acceptLanguage: req.headers['accept-language'],
    ...(challengeToken === undefined ? {} : { challengeToken }),
  })
  const setCookie = (req, res, name, value) => {
    const secure = secureCookies ?? (req.secure === true || req.protocol === 'https')
    const cookie = `${name}=${encodeURIComponent(value)}; Path=${mount(req)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
    res.append('Set-Cookie', cookie)
  }
  const clearFlow = (req, res) => res.append('Set-Cookie', `${FLOW_COOKIE}=; Path=${mount(req)}; Max-Age=0; HttpOnly; SameSite=Strict`)
  const flowOf = (req) => {
    const flow = cookies(req)[FLOW_COOKIE]
    if (!flow) throw noFlow()
    return flow
  }
  const sameOrigin = (req) => {
    if (String(req.headers['sec-fetch-site'] ?? '').toLowerCase() === 'cross-site') return false
    const origin = req.headers.origin
    if (origin === undefined) return true // not a browser's cross-origin request (those name their origin)
    return origin === `${req.protocol}://${req.headers.host}` || allowedOrigins.includes(origin)
  }

  async function jsonBody(req) {
    if (mediaType(req) !== 'application/json') throw new Refusal(415, 'unsupported_media_type', 'Send the request as application/json.')
    if (!sameOrigin(req)) throw new Refusal(403, 'cross_origin', 'Cross-site requests are refused.')
    const body = await readBody(req)
    let data = body.parsed
    if (body.raw !== undefined) {
      try {
        data = JSON.parse(body.raw)
      } catch {
        throw new Refusal(400, 'invalid_input', 'The request is not JSON.', { field: 'body' })
      }
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new Refusal(400, 'invalid_input', 'The request is not a JSON object.', { field: 'body' })
    }
    return data
  }

  async function formBody(req) {
    const body = await readBody(req)
    const fields = body.parsed ?? Object.fromEntries(new URLSearchParams(body.raw ?? ''))
    const sent = typeof fields.csrf === 'string' ? fields.csrf : ''
    if (!sameToken(sent, cookies(req)[CSRF_COOKIE] ?? '')) throw new Refusal(403, 'csrf', 'This form has expired. Please start again.')
    return fields
  }

  const api = (step) => async (req, res) => {
    try {
      const [status, body] = await step(req, res)
      res.status(status).set(API_HEADERS).json(body)
    } catch (e) {
      const r = describe(e)
      if (r.status === 410) clearFlow(req, res)
      if (r.status === 413) res.set('Connection', 'close')
      if (r.extra.retry_after_seconds) res.set('Retry-After', String(r.extra.retry_after_seconds))
      // A front end asked to solve the challenge learns which widget to show.
      const shown = e instanceof SsprError && e.code === 'CHALLENGE' && widget && r.status === 403
      const extra = shown ? { ...r.extra, provider: widget.provider, site_key: widget.siteKey } : r.extra
      res.status(r.status).set(API_HEADERS).json({ error: r.code, message: r.message, ...extra })
    }
  }
  const page = (res, title, body, status = 200, shows = false) =>
    res
      .status(status)
      .set(shows && widget ? { ...PAGE_HEADERS, 'Content-Security-Policy': widget.csp } : PAGE_HEADERS)
      .type('html')
      .send(layout(title, body))
  // The login form: with the widget when every begin needs it, or a begin was just refused for it.
  const startPage = (res, token, { login = '', alert = '', status = 200, challenged = false } = {}) => {
    const shows = Boolean(widget && (widget.always || challenged))
    page(
      res,
      'Reset your password',
      (alert ? `<p role="alert">${esc(alert)}</p>` : '') +
        `<form method="post" action="begin"><input type="hidden" name="csrf" value="${esc(token)}">` +
        '<p><label for="login">Your login</label> <input id="login" name="login" autocomplete="username" autocapitalize="none"' +
        ` spellcheck="false" maxlength="${MAX_FIELD}" value="${esc(login)}" required autofocus></p>` +
        (shows
          ? `<script src="${esc(widget.scriptUrl)}" async defer></script><div class="${esc(widget.widgetClass)}" data-sitekey="${esc(widget.siteKey)}"></div>`
          : '') +
        '<p><button>Continue</button></p></form>',
      status,
      shows,
    )
  }
  const csrfField = (req) => `<input type="hidden" name="csrf" value="${esc(cookies(req)[CSRF_COOKIE] ?? '')}">`
  const form = (step) => async (req, res) => {
    try {
      await step(req, res)
    } catch (e) {
      const r = describe(e)
      if (r.status === 410) clearFlow(req, res)
      if (r.status === 413) res.set('Connection', 'close')
      const start = mount(req).replace(/\/$/, '') + '/'
      page(res, 'Reset your password', `<p role="alert">${esc(r.message)}</p><p><a href="${esc(start)}">Start again</a></p>`, r.status)
    }
  }
  const pinForm = (req) =>
    `<form method="post" action="verify">${csrfField(req)}<p><label for="pin">Code</label> ` +
    '<input id="pin" name="pin" inputmode="numeric" autocomplete="one-time-code" required autofocus></p><p><button>Verify</button></p></form>'
  const modesForm = (req, modes) =>
    `<form method="post" action="complete">${csrfField(req)}` +
    (modes.includes('chosen')
      ? '<p><label for="password">New password (for “Choose a new password”)</label> <input id="password" name="password" type="password" autocomplete="new-password"></p>'
      : '') +
    `<p>${modes.map((m) => `<button name="mode" value="${esc(m)}">${esc(MODE_LABELS[m] ?? m)}</button>`).join(' ')}</p></form>`
  const complete = (flow, mode, password, ctx) => {
    if (mode === 'temporary' || mode === 'unlock_only') return sspr.completeReset(flow, { mode }, ctx)
    if (mode === 'chosen') return sspr.completeReset(flow, { mode, password: password ?? '' }, ctx)
    throw new Refusal(400, 'invalid_input', 'Please check your input (mode).', { field: 'mode' })
  }

  const routes = {
    'POST /api/begin': api(async (req, res) => {
      const data = await jsonBody(req)
      const login = text(data, 'login')
      const challenge = await sspr.beginReset(login, context(req, challengeToken(data, CHALLENGE_FIELD)))
      setCookie(req, res, FLOW_COOKIE, challenge.flowId)
      const methods = challenge.methods.map((m) => ({ id: m.id, channel: m.channel, masked: m.masked, needs_confirmation: m.needsConfirmation }))
      return [200, { methods, expires_at: challenge.expiresAt.toISOString() }]
    }),
    'POST /api/send': api(async (req) => {
      const data = await jsonBody(req)
      const method = text(data, 'method')
      const confirm = text(data, 'confirm', false)
      const sent = await sspr.sendPin(flowOf(req), method, confirm, context(req))
      return [200, { expires_at: sent.expiresAt.toISOString(), resend_after: sent.resendAfter.toISOString(), attempts_left: sent.attemptsLeft }]
    }),
    'POST /api/verify': api(async (req) => {
      const pin = text(await jsonBody(req), 'pin')
      const verified = await sspr.verifyPin(flowOf(req), pin, context(req))
      return [200, { modes: verified.modes, remaining_methods: verified.remainingMethods }]
    }),
    'POST /api/complete': api(async (req, res) => {
      const data = await jsonBody(req)
      const mode = text(data, 'mode', false) ?? 'temporary'
      const password = text(data, 'password', false)
      const outcome = await complete(flowOf(req), mode, password, context(req))
      clearFlow(req, res)
      // Shown once by the front end; never stored or sent anywhere else.
      const temporary = outcome.temporaryPassword ? outcome.temporaryPassword.reveal() : null
      return [200, { temporary_password: temporary, must_change: outcome.mustChange, unlocked: outcome.unlocked }]
    }),
  }
  if (pages) {
    Object.assign(routes, {
      'GET /': (req, res) => {
        const token = cookies(req)[CSRF_COOKIE] || randomBytes(32).toString('base64url')
        setCookie(req, res, CSRF_COOKIE, token)
        startPage(res, token)
      },
      'POST /begin': form(async (req, res) => {
        const fields = await formBody(req)
        const login = text(fields, 'login')
        const token = widget ? challengeToken(fields, widget.responseField) : undefined
        let challenge
        try {
          challenge = await sspr.beginReset(login, context(req, token))
        } catch (e) {
          const r = e instanceof SsprError && e.code === 'CHALLENGE' ? describe(e) : null
          if (!r || !widget || r.status !== 403) throw e
          // Asked again, with the widget this time (the login kept): the same page for every login.
          return startPage(res, fields.csrf, { login, alert: r.message, status: 403, challenged: true })
        }
        setCookie(req, res, FLOW_COOKIE, challenge.flowId)
        const options = challenge.methods
          .map((m, i) => {
            const name = CHANNEL_NAMES[m.channel] ?? m.channel
            const confirm = m.needsConfirmation ? `<br><label>Type the full ${esc(name)} <input name="confirm"></label>` : ''
            return `<p><label><input type="radio" name="method" value="${esc(m.id)}" required${i === 0 ? ' checked' : ''}> ${esc(name[0].toUpperCase() + name.slice(1))} to ${esc(m.masked)}</label>${confirm}</p>`
          })
          .join('')
        page(res, 'Where should we send your code?', `<form method="post" action="send">${csrfField(req)}${options}<p><button>Send code</button></p></form>`)
      }),
      'POST /send': form(async (req, res) => {
        const fields = await formBody(req)
        const flow = flowOf(req)
        const method = text(fields, 'method')
        const sent = await sspr.sendPin(flow, method, text(fields, 'confirm', false), context(req))
        const until = sent.expiresAt.toISOString().slice(11, 16)
        page(res, 'Enter your code', `<p>We sent a code by ${esc(CHANNEL_NAMES[method] ?? method)}. It is valid until ${until} UTC.</p>${pinForm(req)}`)
      }),
      'POST /verify': form(async (req, res) => {
        const fields = await formBody(req)
        const flow = flowOf(req)
        let verified
        try {
          verified = await sspr.verifyPin(flow, text(fields, 'pin'), context(req))
        } catch (e) {
          if (!(e instanceof SsprError) || e.code !== 'WRONG_PIN') throw e
          return page(res, 'Enter your code', `<p role="alert">${esc(describe(e).message)}</p>${pinForm(req)}`, 400)
        }
        if (verified.remainingMethods.length > 0) {
          const buttons = verified.remainingMethods
            .map((m) => `<button name="method" value="${esc(m)}">Send a code by ${esc(CHANNEL_NAMES[m] ?? m)}</button>`)
            .join(' ')
          return page(
            res,
            'One more code',
            `<p>Your policy asks for a second code, sent to your other contact.</p><form method="post" action="send">${csrfField(req)}` +
              `<p><label for="confirm">If asked, type the full address or number</label> <input id="confirm" name="confirm"></p><p>${buttons}</p></form>`,
          )
        }
        page(res, 'Code accepted', modesForm(req, verified.modes))
      }),
      'POST /complete': form(async (req, res) => {
        const fields = await formBody(req)
        const flow = flowOf(req)
        let outcome
        try {
          outcome = await complete(flow, text(fields, 'mode', false) ?? 'temporary', text(fields, 'password', false), context(req))
        } catch (e) {
          if (!(e instanceof SsprError) || e.code !== 'PASSWORD_REJECTED') throw e
          // The flow stays verified: let the user choose again.
          return page(res, 'Code accepted', `<p role="alert">${esc(describe(e).message)}</p>${modesForm(req, sspr.completionModes())}`, 400)
        }
        clearFlow(req, res)
        if (outcome.temporaryPassword) {
          // Shown once, never stored or sent anywhere else.
          page(
            res,
            'Your temporary password',
            `<p><code id="temporary-password">${esc(outcome.temporaryPassword.reveal())}</code></p>` +
              '<p>Sign in with it now; you will be asked to choose a new password.</p>',
          )
        } else {
          page(res, 'Done', outcome.unlocked ? '<p>Your account is unlocked. Sign in with your password.</p>' : '<p>Your new password is set. Sign in with it.</p>')
        }
      }),
    })
  }

  return function ssprRouterMiddleware(req, res, next) {
    const path = (req.path ?? new URL(req.url, 'http://localhost').pathname) || '/'
    const handler = routes[`${req.method} ${path}`]
    if (!handler) return next()
    Promise.resolve(handler(req, res)).catch(next)
  }
}

/** The page around each form: a bare, accessible HTML document (`title` is text, `body` HTML). */
function defaultLayout(title, body) {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`
  )
}

module.exports = { ssprRouter, defaultLayout, FLOW_COOKIE, CSRF_COOKIE }
