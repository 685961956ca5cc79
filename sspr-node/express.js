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
// mount, `__Host-sspr_flow` with `Path=/` over https, never in a page, URL or JSON answer; a request carrying it
// twice, one planted for the parent domain, is refused), the forms' CSRF tokens and the JSON API's media-type and
// Origin checks, and how an error's answer is sent (the status, code and message of each engine error are
// sspr-core's one rule, carried by the SsprError: `status`, `answerCode`, `messageId`). The client's address is
// Express's `req.ip`, so the app's `trust proxy` setting decides whom X-Forwarded-For is believed from.
// It needs no body parser: it reads its own bodies (16 KiB at most) unless one already ran.
//
// A bot challenge (the engine's `botChallenge`): the router asks the engine what the widget needs
// (`sspr.challengeWidget(PAGE_CSP)`) and reads no configuration itself. The start page shows the
// provider's widget when every begin needs it (policy `always`; with `after_begins`, once a begin was
// refused for it), and only that page's CSP allows the provider's documented sources; without a
// challenge every page stays script-free. The form's `cf-turnstile-response` / `h-captcha-response` /
// `g-recaptcha-response`, or the JSON API's `challenge_token`, is passed to `beginReset`.
//
// Every text a user reads (pages and the JSON API's `message`) is a message of sspr-core's pages catalogue
// (`pageText`), in the language negotiated from `Accept-Language` among `options.languages` (`negotiateLocale`);
// the request's context carries the same language, so the notices it causes match the page.
const { randomBytes, timingSafeEqual } = require('node:crypto')
const { SsprError, pageText, negotiateLocale } = require('./index.js')

// The host's OpenTelemetry API (`@opentelemetry/api`), when it resolves from here: null when the host does
// not use OpenTelemetry, looked up once.
let otelApi
/**
 * The W3C `traceparent` of the host's active OpenTelemetry span, for the request's context: with `exportTraces`
 * the engine's spans of the request become its children. Read from the host's own context, never from the
 * request's `traceparent` header: a client's header could force each of its requests to be sampled
 * (`ParentBased` follows the parent's flag) or put them in a trace of its choosing; whether a client's header is
 * believed is the host's instrumentation's decision, made once for all its spans. The span's context is read
 * (not `propagation.inject`), so a host whose propagator is B3, or none, still gets its spans' children.
 */
function currentTraceparent() {
  if (otelApi === undefined) {
    // From here (sspr installed beside the app), else from the app's directory (sspr linked from elsewhere);
    // every copy of the API shares one global context.
    for (const from of [undefined, process.cwd()]) {
      try {
        otelApi = require(from === undefined ? '@opentelemetry/api' : require.resolve('@opentelemetry/api', { paths: [from] }))
        break
      } catch {
        otelApi = null
      }
    }
  }
  if (otelApi === null) return undefined
  const span = otelApi.trace.getSpanContext(otelApi.context.active())
  if (!span || !otelApi.trace.isSpanContextValid(span)) return undefined
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

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
// The message ids of the pages' catalogue (sspr-core's locales/pages/*.ftl): every text a user reads.
const CHANNEL_LABELS = { email: 'via-email', sms: 'via-sms' }
// The JSON API's field for the widget's token; the longest one read (the engine refuses over 4096 bytes).
const CHALLENGE_FIELD = 'challenge_token'
const MAX_CHALLENGE_FIELD = 8192
// What ssprRouter reads (express.d.ts, SsprRouterOptions).
const ROUTER_OPTIONS = ['sspr', 'pages', 'allowedOrigins', 'secureCookies', 'layout', 'languages']
const MODE_LABELS = { temporary: 'mode-temporary', chosen: 'mode-chosen', unlock_only: 'mode-unlock' }

/**
 * A request refused before it reached the engine (nothing changed), or an engine error described for a user.
 * `said` is the catalogue's message (`[id, args]`) that `describe` writes in the request's language; a refusal
 * without it (a protocol error only a developer sees, like a body that is not JSON) keeps its English message.
 */
class Refusal {
  constructor(status, code, message, extra = {}, said = null) {
    Object.assign(this, { status, code, message, extra, said })
  }

  /** A refusal saying the catalogue's message `id` (English until `describe` gives it a language). */
  static saying(status, code, id, args = {}, extra = {}) {
    return new Refusal(status, code, pageText('en', id, args), extra, [id, args])
  }
}

/**
 * What a user is told, in `lang`, for an error: an engine error's own answer, which sspr-core gives every
 * error it throws (`status`, `answerCode`, `messageId`, `messageArgs`, `answerFields`: one rule for the portal
 * and every router), or a refusal of the router's own, said in `lang`. Neither holds a secret.
 */
function describe(e, lang = 'en') {
  const said = (status, code, id, args = {}, extra = {}) => new Refusal(status, code, pageText(lang, id, args), extra, [id, args])
  if (e instanceof Refusal) return e.said ? said(e.status, e.code, e.said[0], e.said[1], e.extra) : e
  if (!(e instanceof SsprError)) throw e
  return said(e.status, e.answerCode, e.messageId, e.messageArgs, e.answerFields)
}

const noFlow = () => Refusal.saying(410, 'expired', 'err-expired')
const badField = (name) => Refusal.saying(400, 'invalid_input', 'err-field', { field: name }, { field: name })

function text(data, name, required = true) {
  const value = data[name]
  if ((value === undefined || value === null || value === '') && !required) return null
  if (typeof value !== 'string' || value.length > MAX_FIELD) {
    throw badField(name)
  }
  return value
}

function challengeToken(data, name) {
  const value = data[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string' || value.length > MAX_CHALLENGE_FIELD) {
    throw badField(name)
  }
  return value
}

function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

// Every value the request sends for the cookie `name` (a browser sends one name more than once when another
// domain or path set it too).
function cookieValues(req, name) {
  const values = []
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=')
    if (at <= 0 || part.slice(0, at).trim() !== name) continue
    try {
      values.push(decodeURIComponent(part.slice(at + 1).trim()))
    } catch {
      values.push('') // a malformed %-escape: a value that matches nothing
    }
  }
  return values
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
      reject(Refusal.saying(413, 'invalid_input', 'err-too-large', {}, { field: 'body' }))
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
  // A misspelt option would serve without what the host asked for (`secureCookie: true`: a flow cookie without
  // Secure), and `allowedOrigins` as a string would match any part of it (`String.includes`): refused by name.
  const refuse = (message) => {
    throw new SsprError({ code: 'CONFIG', message: `ssprRouter: ${message}` })
  }
  for (const key of Object.keys(options ?? {})) {
    if (!ROUTER_OPTIONS.includes(key)) refuse(`unknown option \`${key}\` (expected one of ${ROUTER_OPTIONS.join(', ')})`)
  }
  const { sspr, pages = true, allowedOrigins = [], secureCookies, layout = defaultLayout, languages } = options ?? {}
  if (!sspr || typeof sspr.beginReset !== 'function') refuse('options.sspr must be an Sspr engine (`ssprRouter({ sspr: new Sspr({ ... }) })`)')
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every((o) => typeof o === 'string')) {
    refuse('allowedOrigins must be an array of origins (["https://app.example.org"])')
  }
  if (secureCookies !== undefined && typeof secureCookies !== 'boolean') refuse('secureCookies must be true or false')
  if (typeof pages !== 'boolean') refuse('pages must be true or false')
  if (typeof layout !== 'function') refuse('layout must be a function (title, bodyHtml, lang) => html')
  const offered = typeof languages === 'string' ? [languages] : languages
  negotiateLocale(undefined, offered) // an unknown language fails here (INVALID_INPUT, field locale), not per request
  /** The language a request is served in: pages, JSON messages and the notices it causes. */
  const langOf = (req) => negotiateLocale(req.headers['accept-language'], offered)
  const t = (lang, id, args) => esc(pageText(lang, id, args))
  // What the bot challenge's widget needs, as the engine says (null: no challenge, no script anywhere).
  const widget = typeof sspr.challengeWidget === 'function' ? sspr.challengeWidget(PAGE_CSP) : null

  const mount = (req) => req.baseUrl || '/'
  const context = (req, challengeToken) => {
    const traceparent = currentTraceparent()
    return {
      clientIp: req.ip ?? req.socket?.remoteAddress,
      userAgent: req.headers['user-agent'],
      locale: langOf(req),
      ...(challengeToken === undefined ? {} : { challengeToken }),
      ...(traceparent === undefined ? {} : { traceparent }),
    }
  }
  const secureOf = (req) => secureCookies ?? (req.secure === true || req.protocol === 'https')
  // Over https a cookie is `__Host-` + its name, `Secure` and `Path=/`: the browser takes such a cookie only from
  // this host, so a sibling subdomain cannot plant it. Over http it is scoped to the mount.
  const cookieAttributes = (req) => (secureOf(req) ? ['__Host-', 'Path=/; HttpOnly; SameSite=Strict; Secure'] : ['', `Path=${mount(req)}; HttpOnly; SameSite=Strict`])
  const setCookie = (req, res, base, value) => {
    const [prefix, attributes] = cookieAttributes(req)
    res.append('Set-Cookie', `${prefix}${base}=${encodeURIComponent(value)}; ${attributes}`)
  }
  const clearFlow = (req, res) => {
    const [prefix, attributes] = cookieAttributes(req)
    res.append('Set-Cookie', `${prefix}${FLOW_COOKIE}=; Max-Age=0; ${attributes}`)
  }
  // The one cookie `base` (`__Host-` + `base` over https), or ''. Cookie tossing: a sibling subdomain (or a
  // plain-http answer on the victim's network) can set the same name for the parent domain, and the browser then
  // sends both; a planted `Path=/` cookie comes last and a last-wins parser read it, so the victim's steps ran on
  // a flow the attacker began, and he completed it. A name sent twice is refused; a planted plain name is not read
  // over https.
  const cookieOf = (req, base) => {
    const values = cookieValues(req, cookieAttributes(req)[0] + base)
    if (values.length > 1) throw Refusal.saying(403, 'csrf', 'err-session')
    return values[0] ?? ''
  }
  const flowOf = (req) => {
    const flow = cookieOf(req, FLOW_COOKIE)
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
    // The forms are posted from this router's own pages only: same origin. A sibling subdomain is same-site, so
    // SameSite lets its posts carry the flow cookie, and it can plant a CSRF cookie of its choosing for the mount
    // (Domain=) and post the matching token; browsers name such a post in Sec-Fetch-Site.
    if (['same-site', 'cross-site'].includes(String(req.headers['sec-fetch-site'] ?? '').toLowerCase())) {
      throw Refusal.saying(403, 'csrf', 'err-session')
    }
    const body = await readBody(req)
    const fields = body.parsed ?? Object.fromEntries(new URLSearchParams(body.raw ?? ''))
    const sent = typeof fields.csrf === 'string' ? fields.csrf : ''
    if (!sameToken(sent, cookieOf(req, CSRF_COOKIE))) throw Refusal.saying(403, 'csrf', 'err-session')
    return fields
  }

  const api = (step) => async (req, res) => {
    try {
      const [status, body] = await step(req, res)
      res.status(status).set(API_HEADERS).json(body)
    } catch (e) {
      const r = describe(e, langOf(req))
      if (r.status === 410) clearFlow(req, res)
      if (r.status === 413) res.set('Connection', 'close')
      if (r.extra.retry_after_seconds) res.set('Retry-After', String(r.extra.retry_after_seconds))
      // A front end asked to solve the challenge learns which widget to show.
      const shown = e instanceof SsprError && e.code === 'CHALLENGE' && widget && r.status === 403
      const extra = shown ? { ...r.extra, provider: widget.provider, site_key: widget.siteKey } : r.extra
      res.status(r.status).set(API_HEADERS).json({ error: r.code, message: r.message, ...extra })
    }
  }
  // A page in the request's language: `title` is the catalogue's text (the layout escapes it), `body` HTML.
  const page = (req, res, title, body, status = 200, shows = false) => {
    const lang = langOf(req)
    res
      .status(status)
      .set(shows && widget ? { ...PAGE_HEADERS, 'Content-Security-Policy': widget.csp } : PAGE_HEADERS)
      .set('Content-Language', lang)
      .type('html')
      .send(layout(title, body, lang))
  }
  // The login form: with the widget when every begin needs it, or a begin was just refused for it.
  const startPage = (req, res, token, { login = '', alert = '', status = 200, challenged = false } = {}) => {
    const shows = Boolean(widget && (widget.always || challenged))
    const lang = langOf(req)
    page(
      req,
      res,
      pageText(lang, 'reset-title'),
      (alert ? `<p role="alert">${esc(alert)}</p>` : '') +
        `<p>${t(lang, 'reset-intro')}</p>` +
        `<form method="post" action="begin"><input type="hidden" name="csrf" value="${esc(token)}">` +
        `<p><label for="login">${t(lang, 'login-label')}</label> <input id="login" name="login" autocomplete="username" autocapitalize="none"` +
        ` spellcheck="false" maxlength="${MAX_FIELD}" value="${esc(login)}" required autofocus></p>` +
        (shows
          ? `<script src="${esc(widget.scriptUrl)}" async defer></script><div class="${esc(widget.widgetClass)}" data-sitekey="${esc(widget.siteKey)}"></div>`
          : '') +
        `<p><button>${t(lang, 'continue-btn')}</button></p></form>`,
      status,
      shows,
    )
  }
  const csrfField = (req) => `<input type="hidden" name="csrf" value="${esc(cookieOf(req, CSRF_COOKIE))}">`
  const form = (step) => async (req, res) => {
    try {
      await step(req, res)
    } catch (e) {
      const lang = langOf(req)
      const r = describe(e, lang)
      if (r.status === 410) clearFlow(req, res)
      if (r.status === 413) res.set('Connection', 'close')
      const start = mount(req).replace(/\/$/, '') + '/'
      const body = `<p role="alert">${esc(r.message)}</p><p><a href="${esc(start)}">${t(lang, 'start-over')}</a></p>`
      page(req, res, pageText(lang, 'reset-title'), body, r.status)
    }
  }
  const pinForm = (req, lang) =>
    `<form method="post" action="verify">${csrfField(req)}<p><label for="pin">${t(lang, 'pin-label')}</label> ` +
    '<input id="pin" name="pin" inputmode="numeric" autocomplete="one-time-code" required autofocus></p>' +
    `<p><button>${t(lang, 'verify-btn')}</button></p></form>`
  const modesForm = (req, lang, modes) =>
    `<form method="post" action="complete">${csrfField(req)}` +
    (modes.includes('chosen')
      ? `<p><label for="password">${t(lang, 'new-password-label')}</label> <input id="password" name="password" type="password" autocomplete="new-password"></p>`
      : '') +
    `<p>${modes.map((m) => `<button name="mode" value="${esc(m)}">${Object.hasOwn(MODE_LABELS, m) ? t(lang, MODE_LABELS[m]) : esc(m)}</button>`).join(' ')}</p></form>`
  const complete = (flow, mode, password, ctx) => {
    if (mode === 'temporary' || mode === 'unlock_only') return sspr.completeReset(flow, { mode }, ctx)
    if (mode === 'chosen') return sspr.completeReset(flow, { mode, password: password ?? '' }, ctx)
    throw badField('mode')
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
        let token = ''
        try {
          token = cookieOf(req, CSRF_COOKIE)
        } catch {
          // Sent twice, one planted: a new token (the planted cookie still refuses the post).
        }
        token ||= randomBytes(32).toString('base64url')
        setCookie(req, res, CSRF_COOKIE, token)
        startPage(req, res, token)
      },
      'POST /begin': form(async (req, res) => {
        const fields = await formBody(req)
        const login = text(fields, 'login')
        const token = widget ? challengeToken(fields, widget.responseField) : undefined
        let challenge
        try {
          challenge = await sspr.beginReset(login, context(req, token))
        } catch (e) {
          const r = e instanceof SsprError && e.code === 'CHALLENGE' ? describe(e, langOf(req)) : null
          if (!r || !widget || r.status !== 403) throw e
          // Asked again, with the widget this time (the login kept): the same page for every login.
          return startPage(req, res, fields.csrf, { login, alert: r.message, status: 403, challenged: true })
        }
        setCookie(req, res, FLOW_COOKIE, challenge.flowId)
        const lang = langOf(req)
        const confirm = `<br><label>${t(lang, 'confirm-label')} <input name="confirm"></label>`
        const options = challenge.methods
          .map((m, i) => {
            const label = t(lang, CHANNEL_LABELS[m.channel] ?? 'via-email')
            return `<p><label><input type="radio" name="method" value="${esc(m.id)}" required${i === 0 ? ' checked' : ''}> ${label} ${esc(m.masked)}</label>${m.needsConfirmation ? confirm : ''}</p>`
          })
          .join('')
        const form = `<form method="post" action="send">${csrfField(req)}${options}<p><button>${t(lang, 'send-btn')}</button></p></form>`
        page(req, res, pageText(lang, 'methods-intro'), form)
      }),
      'POST /send': form(async (req, res) => {
        const fields = await formBody(req)
        const flow = flowOf(req)
        const method = text(fields, 'method')
        const sent = await sspr.sendPin(flow, method, text(fields, 'confirm', false), context(req))
        const lang = langOf(req)
        const said = `${t(lang, 'code-sent-by', { channel: method })} ${t(lang, 'pin-status', { time: sent.expiresAt, attempts: sent.attemptsLeft })}`
        page(req, res, pageText(lang, 'code-title'), `<p>${said}</p>${pinForm(req, lang)}`)
      }),
      'POST /verify': form(async (req, res) => {
        const fields = await formBody(req)
        const flow = flowOf(req)
        let verified
        try {
          verified = await sspr.verifyPin(flow, text(fields, 'pin'), context(req))
        } catch (e) {
          if (!(e instanceof SsprError) || e.code !== 'WRONG_PIN') throw e
          const lang = langOf(req)
          return page(req, res, pageText(lang, 'code-title'), `<p role="alert">${esc(describe(e, lang).message)}</p>${pinForm(req, lang)}`, 400)
        }
        const lang = langOf(req)
        if (verified.remainingMethods.length > 0) {
          const buttons = verified.remainingMethods
            .map((m) => `<button name="method" value="${esc(m)}">${t(lang, 'send-by', { channel: m })}</button>`)
            .join(' ')
          return page(
            req,
            res,
            pageText(lang, 'second-title'),
            `<p>${t(lang, 'second-method')}</p><form method="post" action="send">${csrfField(req)}` +
              `<p><label for="confirm">${t(lang, 'confirm-label')}</label> <input id="confirm" name="confirm"></p><p>${buttons}</p></form>`,
          )
        }
        page(req, res, pageText(lang, 'modes-title'), modesForm(req, lang, verified.modes))
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
          const lang = langOf(req)
          const alert = `<p role="alert">${esc(describe(e, lang).message)}</p>`
          return page(req, res, pageText(lang, 'modes-title'), alert + modesForm(req, lang, sspr.completionModes()), 400)
        }
        clearFlow(req, res)
        const lang = langOf(req)
        if (outcome.temporaryPassword) {
          // Shown once, never stored or sent anywhere else.
          page(
            req,
            res,
            pageText(lang, 'temp-title'),
            `<p><code id="temporary-password">${esc(outcome.temporaryPassword.reveal())}</code></p><p>${t(lang, 'temp-note')}</p>`,
          )
        } else {
          page(req, res, pageText(lang, 'done-title'), `<p>${t(lang, outcome.unlocked ? 'unlocked-done' : 'chosen-done')}</p>`)
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

/** The page around each form: a bare, accessible HTML document (`title` is text, `body` HTML, `lang` its language). */
function defaultLayout(title, body, lang = 'en') {
  return (
    `<!doctype html><html lang="${esc(lang)}"><head>` +
    '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`
  )
}

module.exports = { ssprRouter, defaultLayout, FLOW_COOKIE, CSRF_COOKIE }
