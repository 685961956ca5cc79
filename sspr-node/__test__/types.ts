// Compiled with `tsc --noEmit` (scripts/test.d/50-node.sh): the public types fit how the
// package is used, and misuse does not compile (the @ts-expect-error lines).
import {
  Sspr,
  SsprError,
  BackendError,
  MemoryDirectory,
  Outbox,
  Policy,
  RedisStore,
  SqliteStore,
  backends,
  core,
  type Directory,
  type Notifier,
  type ContactStore,
  type Enrollment,
  type ResetChallenge,
  type Verified,
  type ErrorCode,
  type Locale,
  pageText,
  negotiateLocale,
  exportTraces,
  type TraceExport,
} from '../index'
import { ssprRouter, type SsprRouterOptions } from '../express'

const directory: Directory = {
  findUser: async (login) => (login === 'jdoe@example.org' ? { id: 'u1', login, displayName: 'Jane', dn: 'uid=jdoe' } : null),
  setPassword: (_id, password, _mustChange) => {
    if (password.length < 8) throw new BackendError('password_rejected', 'too short')
  },
  unlock: async () => undefined,
  authenticate: () => 'rejected',
  search: async () => [],
}
const notifier: Notifier = { send: (n) => void n.to }
const records = new Map<string, Enrollment>()
const contacts: ContactStore = {
  get: (id) => records.get(id) ?? null,
  save: (id, e, v) => ((records.get(id)?.version ?? 0) === v ? (records.set(id, { ...e, version: v + 1 }), true) : false),
}

// Every policy field is typed (adminAlertAddresses, defaultRegion... were missing), and a hook may be an
// expression returning anything (`(e, a) => seen.push(a)`), as hooks' results are ignored.
const seen: unknown[] = []
void new Sspr({
  directory,
  notifier,
  secretKey: 'ab'.repeat(32),
  policy: { adminAlertAddresses: ['sec@example.org'], registrationUrl: 'https://sspr.example.org/', timeZone: 'Europe/Berlin', defaultRegion: 'GB', passwordMinScore: 4, userContactsNeedProof: true },
  hooks: { resetCompleted: (_event, audit) => seen.push(audit), user_blocked: async () => {} },
})

async function flow(): Promise<string | undefined> {
  const sspr = new Sspr({ directory, notifier, contacts, secretKey: 'ab'.repeat(32), policy: { pinLength: 6, smsEnabled: false } })
  const challenge: ResetChallenge = await sspr.beginReset('jdoe@example.org', { clientIp: '192.0.2.1', locale: 'de' })
  const when: Date = challenge.expiresAt
  await sspr.sendPin(challenge.flowId, challenge.methods[0].id)
  try {
    const verified: Verified = await sspr.verifyPin(challenge.flowId, '123456')
    const outcome = await sspr.completeReset(challenge.flowId, { mode: verified.modes[0] })
    // The default mode, or `temporary`, always answers a password (the README's `temporaryPassword.reveal()`).
    const temporary: string = (await sspr.completeReset(challenge.flowId)).temporaryPassword.reveal()
    void temporary
    // @ts-expect-error: a chosen password gets no temporary one
    void (await sspr.completeReset(challenge.flowId, { mode: 'chosen', password: 'x' })).temporaryPassword.reveal()
    return outcome.temporaryPassword?.reveal() ?? when.toISOString()
  } catch (e) {
    if (e instanceof SsprError) {
      const code: ErrorCode = e.code
      if (code === 'WRONG_PIN') return String(e.attemptsLeft)
      if (code === 'BLOCKED') return e.blockedUntil?.toISOString()
      // What a web user is told: sspr-core's answer, said in a language.
      const status: number = e.status
      const fields: Record<string, string | number> = e.answerFields
      return `${status} ${e.answerCode} ${pageText('de', e.messageId, e.messageArgs)} ${Object.keys(fields)}`
    }
    throw e
  }
}

async function builtIns(): Promise<void> {
  const store = new SqliteStore()
  const redis: RedisStore = await RedisStore.connect('redis://127.0.0.1:6379/')
  const tls: RedisStore = await RedisStore.connect({ url: 'rediss://cache:6380/', caFile: '/etc/sspr/ca.pem', allowPlaintext: false })
  const sspr = new Sspr({ directory: new MemoryDirectory([]), notifier: new Outbox(), contacts: store, store: redis, secretKey: new Uint8Array(32) })
  const status = await sspr.status('jdoe@example.org')
  const blocked: Date | null | undefined = status.blockedUntil
  void blocked
  const policy = Policy.from({ pinLength: 8 })
  core?.decoyMethods('ab'.repeat(32), policy, 'x@example.org')
  // @ts-expect-error: the secret key is required
  new Sspr({ directory, notifier })
  // @ts-expect-error: a completion mode that does not exist
  await sspr.completeReset('f', { mode: 'email-me-the-password' })
  // @ts-expect-error: a result is not a string
  const wrong: string = await sspr.verifyPin('f', '1')
  void wrong
}

async function configured(): Promise<void> {
  const b = await backends!.fromConfig({ store: { kind: 'sqlite', path: '/tmp/x.db' }, state: { kind: 'redis', url: 'redis://h/0', keyPrefix: 'p:' } })
  const sspr = new Sspr({ ...b, secretKey: 'ab'.repeat(32), previousKeys: ['cd'.repeat(32), new Uint8Array(32)] })
  const shared: boolean = b.stateIsShared
  b.memoryDirectory?.insert({ login: 'x', displayName: 'X', dn: 'uid=x' })
  await backends!.fromConfig('/etc/sspr/backends.toml', { dataDir: '/var/lib/sspr' })
  // At shutdown: deliveries first (they record events), then the audit queue.
  await sspr.flushDeliveries()
  const flushed: Promise<void> = sspr.flushAudit()
  await flushed
  // @ts-expect-error: every table has a kind
  await backends!.fromConfig({ store: { path: 'x' } })
  // @ts-expect-error: an unknown kind
  await backends!.fromConfig({ notifier: { kind: 'carrier-pigeon' } })
  void sspr
  void shared
}

void flow
void builtIns
void configured

// The Express router: the options are checked, the engine is required.
declare const engineForRouter: Sspr
const routerOptions: SsprRouterOptions = { sspr: engineForRouter, pages: false, allowedOrigins: ['https://app.example.org'] }
ssprRouter(routerOptions)
ssprRouter({ sspr: engineForRouter, layout: (title, body) => `<title>${title}</title>${body}` })
// @ts-expect-error the engine is required
ssprRouter({ pages: true })
// @ts-expect-error layout takes a title and the body's HTML, and returns the page
ssprRouter({ sspr: engineForRouter, layout: (title: number) => title })
ssprRouter({ sspr: engineForRouter, languages: ['de', 'fr'], layout: (title, body, lang) => `<html lang="${lang}">${title}${body}` })
// @ts-expect-error only the languages sspr has
ssprRouter({ sspr: engineForRouter, languages: ['pt'] })

// The pages' catalogue: a language by name, counts, texts and dates as arguments; the negotiated language typed.
const served: Locale = negotiateLocale('de-CH, en;q=0.5', ['de', 'en'])
const said: string = pageText(served, 'pin-status', { time: new Date(), attempts: 3 })
// @ts-expect-error arguments are strings, numbers or dates
pageText('en', 'wrong-pin', { attempts: true })
void said

// The bot challenge widget: null without a challenge; its fields typed.
const widget: import('../index').ChallengeWidget | null = engineForRouter.challengeWidget("default-src 'none'")
if (widget) {
  const parts: [string, string, string, string, string, boolean, string] = [
    widget.provider, widget.siteKey, widget.scriptUrl, widget.widgetClass, widget.responseField, widget.always, widget.csp,
  ]
  void parts
}
// @ts-expect-error the CSP base is text
engineForRouter.challengeWidget(1)

// Traces: exported once per process; flush and shutdown are promises; a context's traceparent is text.
const traces: TraceExport = exportTraces({ endpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 0.5, backendSpans: false, serviceName: 'portal' })
const flushed: Promise<void> = traces.flush()
void flushed
// @ts-expect-error the endpoint is required
exportTraces({ sampleRatio: 1 })
const traced: import('../index').RequestContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }
void traced
