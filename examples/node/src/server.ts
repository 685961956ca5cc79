// A self-service password reset portal on Express, in TypeScript, on the npm package `sspr`.
//
//   /passwordreset          anonymous reset: login -> method -> PIN -> temporary password (shown once),
//                           `require('sspr/express')`'s router (its pages and its JSON API under /api)
//   /passwordnotification   sign in with the directory password, then manage your contact details
//   /outbox                 development only: the notices the demo "sent" (PINs included)
//
// It runs on the built-in in-memory backends with a demo directory (SQLite when SSPR_DB is
// set). A real deployment passes its own Directory / Notifier (JavaScript objects) or the
// built-in SQLite / Redis stores, and a secret key from its configuration.
import { randomBytes } from 'node:crypto'
import express, { Request, Response } from 'express'
import { ssprRouter } from 'sspr/express'
import {
  Sspr,
  SsprError,
  MemoryDirectory,
  MemoryContactStore,
  MemoryStateStore,
  Outbox,
  SqliteStore,
  type Contacts,
  type RequestContext,
} from 'sspr'

const DEMO_USERS = [
  { login: 'jdoe@example.org', displayName: 'Jane Doe', dn: 'uid=jdoe,ou=staff,dc=example,dc=org', password: 'Start-Passw0rd' },
  { login: 'rroe@example.org', displayName: 'Richard Roe', dn: 'uid=rroe,ou=staff,dc=example,dc=org', password: 'Start-Passw0rd' },
]

export interface Portal {
  app: express.Express
  sspr: Sspr
  outbox: Outbox
}

/** Build the portal; `secretKey` comes from configuration (a demo may generate one). */
export async function createPortal(secretKey: string = randomBytes(32).toString('hex')): Promise<Portal> {
  const directory = new MemoryDirectory(DEMO_USERS)
  const outbox = new Outbox()
  const db = process.env.SSPR_DB ? new SqliteStore(process.env.SSPR_DB) : undefined
  const sspr = new Sspr({
    directory,
    notifier: outbox,
    contacts: db ?? new MemoryContactStore(),
    store: db ?? new MemoryStateStore(),
    // The demo's addresses are under `.example`: decoys for unknown logins take the same TLD,
    // or a `.com` decoy would tell them apart at a glance (list your users' real TLDs).
    policy: { pinLength: 8, decoyEmailTlds: ['example'] },
    secretKey,
  })
  // Demo data: both users enabled, with an alternate e-mail address.
  const admin = { type: 'admin' as const, id: 'demo-setup' }
  for (const user of DEMO_USERS) {
    await sspr.setEnabled(admin, user.login, true)
    await sspr.updateContacts(admin, user.login, { email: `${user.login.split('@')[0]}@home.example` })
  }

  const app = express()
  app.disable('x-powered-by')
  app.use(express.urlencoded({ extended: false, limit: '16kb' }))
  app.use((_req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    res.set('X-Frame-Options', 'DENY')
    res.set('Cache-Control', 'no-store')
    res.set('Referrer-Policy', 'no-referrer')
    next()
  })

  const ctx = (req: Request): RequestContext => ({
    clientIp: req.ip,
    userAgent: req.get('user-agent') ?? undefined,
    acceptLanguage: req.get('accept-language') ?? undefined,
  })
  const field = (req: Request, name: string): string => {
    const value: unknown = (req.body as Record<string, unknown> | undefined)?.[name]
    return typeof value === 'string' ? value : ''
  }

  app.get('/', (_req, res) => res.redirect('/passwordreset/'))

  // The anonymous reset: the router keeps the flow id in an HttpOnly cookie and checks CSRF itself.
  app.use('/passwordreset', ssprRouter({ sspr }))

  app.get('/passwordnotification', (_req, res) => {
    page(res, 'Your contact details', `
      <form method="post" action="/passwordnotification">
        <label>Login <input name="login" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label>Alternate e-mail <input name="email" type="email"></label>
        <button>Save</button>
      </form>`)
  })

  // A new address is saved only once the user types back the code sent to it (the engine
  // refuses it otherwise). This example signs in again at each step instead of keeping a session.
  const showContacts = (res: Response, name: string, contacts: Contacts) =>
    page(res, `Hello ${esc(name)}`, `
        <p>Alternate e-mail: ${esc(contacts.email?.masked ?? 'none')}</p>
        ${contacts.email && contacts.email.usableFrom > new Date() ? `<p>Usable for resets from ${esc(contacts.email.usableFrom.toISOString())}.</p>` : ''}`)

  app.post('/passwordnotification', async (req, res) => {
    try {
      const me = await sspr.signInSelfService(field(req, 'login'), field(req, 'password'), ctx(req))
      const email = field(req, 'email')
      if (!email) return showContacts(res, me.displayName, await sspr.contacts(me.login))
      const proof = await sspr.requestContactProof({ type: 'user' }, me.login, 'email', email, ctx(req))
      page(res, 'Confirm your address', `
        <p>We sent a code to ${esc(proof.masked)}. Type it here to save the address.</p>
        <form method="post" action="/passwordnotification/confirm">
          <label>Login <input name="login" autocomplete="username" required></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
          <input type="hidden" name="proof" value="${esc(proof.proofId)}">
          <label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
          <button>Confirm</button>
        </form>`)
    } catch (e) {
      failure(res, e)
    }
  })

  app.post('/passwordnotification/confirm', async (req, res) => {
    try {
      const me = await sspr.signInSelfService(field(req, 'login'), field(req, 'password'), ctx(req))
      const contacts = await sspr.confirmContactProof({ type: 'user' }, me.login, field(req, 'proof'), field(req, 'code'), ctx(req))
      showContacts(res, me.displayName, contacts)
    } catch (e) {
      failure(res, e)
    }
  })

  app.get('/outbox', (_req, res) => {
    const rows = outbox
      .messages()
      .reverse()
      .map((n) => `<tr><td>${esc(n.at.toISOString())}</td><td>${esc(n.to)}</td><td>${esc(n.subject)}</td><td><pre>${esc(n.body)}</pre></td></tr>`)
      .join('')
    page(res, 'Development outbox', `<table>${rows}</table>`)
  })

  return { app, sspr, outbox }
}

/** What each error tells the user; the status code for it. */
function failure(res: Response, e: unknown): void {
  if (!(e instanceof SsprError)) {
    console.error('unexpected failure', e)
    page(res, 'Something went wrong', '<p>Please try again later.</p>', 500)
    return
  }
  const text: Record<string, [number, string]> = {
    INVALID_INPUT: [400, 'Please check what you typed.'],
    WRONG_PIN: [400, `That code is not right. ${e.attemptsLeft ?? 0} attempt(s) left.`],
    PIN_VOIDED: [400, 'Too many wrong codes. <a href="/passwordreset">Start again</a>.'],
    EXPIRED: [400, 'This reset has expired. <a href="/passwordreset">Start again</a>.'],
    ALREADY_USED: [400, 'This reset was already used. <a href="/passwordreset">Start again</a>.'],
    INVALID_STATE: [409, 'This step is not possible now. <a href="/passwordreset">Start again</a>.'],
    RATE_LIMITED: [429, `Too many requests. Try again in ${Math.ceil(e.retryAfter ?? 60)} seconds.`],
    BLOCKED: [403, 'Self-service reset is blocked for now. Contact the help desk.'],
    NOT_ALLOWED: [403, 'Self-service reset is not available for this account. Contact the help desk.'],
    PASSWORD_REJECTED: [400, 'That password does not meet the policy.'],
    SIGN_IN_FAILED: [401, 'The login or password is not right.'],
  }
  const [status, message] = text[e.code] ?? [503, 'The service is unavailable. Please try again later.']
  if (e.code === 'RATE_LIMITED') res.set('Retry-After', String(Math.ceil(e.retryAfter ?? 60)))
  if (status >= 500) console.error('sspr failure', e.code, e.message)
  page(res, 'Sorry', `<p>${message}</p>`, status)
}

function page(res: Response, title: string, body: string, status = 200): void {
  res.status(status).type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}label{display:block;margin:.5em 0}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`)
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3000)
  createPortal(process.env.SSPR_SECRET_KEY).then(({ app }) => {
    app.listen(port, '127.0.0.1', () => console.log(`sspr portal on http://127.0.0.1:${port}/passwordreset`))
  })
}
