// Types of the npm package `sspr`. The native classes and result objects are generated from
// the Rust code into native.d.ts (checked by CI: regenerated and compared); this file adds
// the JavaScript layer of index.js: Sspr, SsprError, BackendError, the backend interfaces
// and the policy options.

import type * as N from './native'
import { Policy as NativePolicy, RedisStore as NativeRedisStore, PostgresStore as NativePostgresStore } from './native'

// The API's values, generated from the Rust code, under their own names.
export type AccountState = N.AccountState
export type Actor = N.Actor
export type ConfiguredBackends = N.ConfiguredBackends
export type ChallengeWidget = N.ChallengeWidget
export type ContactView = N.ContactView
export type Contacts = N.Contacts
export type Counter = N.Counter
export type DecoyMethod = N.DecoyMethod
export type DirectoryFixtureInput = N.DirectoryFixtureInput
export type DirectoryUser = N.DirectoryUser
export type Enrollment = N.Enrollment
export type ErrorInfo = N.ErrorInfo
export type Masked = N.Masked
export type MemoryUser = N.MemoryUser
export type MethodOption = N.MethodOption
export type NewPassword = N.NewPassword
export type Notification = N.Notification
export type PinSent = N.PinSent
export type ContactProof = N.ContactProof
export type RecoveryCode = N.RecoveryCode
export type RecoverySent = N.RecoverySent
export type Recovered = N.Recovered
export type EnrollmentFilter = N.EnrollmentFilter
export type EnrollmentReport = N.EnrollmentReport
export type EnrollmentEntry = N.EnrollmentEntry
export type EnrollmentCounts = N.EnrollmentCounts
export type ReminderRun = N.ReminderRun
export type RequestContext = N.RequestContext
export type ResetChallenge = N.ResetChallenge
export type ResetOutcome = N.ResetOutcome
export type SignedIn = N.SignedIn
export type PasswordRules = N.PasswordRules
export type StoredContact = N.StoredContact
export type StoredValue = N.StoredValue
export type UserStatus = N.UserStatus
export type Verified = N.Verified
// The built-in backend classes.
export {
  ConfiguredBackend,
  LdapContactStore,
  LdapDirectory,
  ManualClock,
  MemoryAuditSink,
  MemoryContactStore,
  MemoryDirectory,
  MemoryStateStore,
  Outbox,
  SmtpNotifier,
  SqliteStore,
  TemporaryPassword,
  HelpdeskCode,
  TwilioSms,
  WebhookNotifier,
} from './native'

/**
 * The core's stable name of a value given by name, by the rule every binding applies:
 * `parseName('locale', 'de-CH')` is `'de'`, `parseName('channel', 'Email')` throws
 * `INVALID_INPUT` (field `channel`). Kinds: `channel`, `locale`, `completion_mode`,
 * `not_allowed_reason`, `backend_error_kind`, `authentication`, `password_refusal`, `error_code`.
 */
export declare function parseName(kind: string, name: string): string

/**
 * Export the engine's spans (`sspr.begin_reset`, ... with `sspr.step`, `sspr.outcome` and the flow's keyed
 * reference; never a login, address, PIN or password) of every engine of this process to an OTLP/HTTP
 * collector: `exportTraces({ endpoint: 'http://collector:4318/v1/traces' })`. Once per process (a second call
 * throws `CONFIG`). A call whose `ctx.traceparent` names the host's span is that span's child. Await
 * `flush()` / `shutdown()` of the handle before the process exits, or the last batch is lost.
 */
export declare function exportTraces(options: N.TraceExportOptions): N.TraceExport
export type TraceExport = N.TraceExport
export type TraceExportOptions = N.TraceExportOptions

/** A language sspr speaks (notices and the web pages' catalogue). */
export type Locale = 'en' | 'de' | 'fr' | 'es' | 'it' | 'nl'

/**
 * Message `id` of the web pages' catalogue (sspr-core's `locales/pages/*.ftl`, the portal's words) in the
 * language `locale` names (`'de'`, `'fr-CH'`), with `args`: a string as it is, a whole number >= 0 as a count
 * (it chooses the plural form), a `Date` written for the language (`at`: "1. Dezember 2026 um 19:04 (UTC)";
 * `time`: "19:04 (UTC)"). Throws `INVALID_INPUT` (field `locale` or `id`) for a language sspr does not have or
 * a message the catalogue does not have, and for a count that is not a whole number >= 0 (field `args`).
 */
export declare function pageText(locale: string, id: string, args?: Record<string, string | number | Date>): string

/**
 * The language to serve for an HTTP `Accept-Language` header (absent: English), among `offered` (absent: all
 * six), as the portal negotiates it: `'de-CH, en;q=0.5'` is `'de'`; when none matches, English, or the first
 * offered when English is not. Throws `INVALID_INPUT` (field `locale`) when `offered` names a language sspr
 * does not have.
 */
export declare function negotiateLocale(acceptLanguage?: string | null, offered?: string[] | null): Locale

/** How a verified reset may be completed. */
export type CompletionMode = 'temporary' | 'chosen' | 'unlock_only'

/** The stable codes of `SsprError`. */
export type ErrorCode =
  | 'INVALID_INPUT'
  | 'WRONG_PIN'
  | 'PIN_VOIDED'
  | 'EXPIRED'
  | 'ALREADY_USED'
  | 'INVALID_STATE'
  | 'RATE_LIMITED'
  | 'BLOCKED'
  | 'NOT_ALLOWED'
  | 'PASSWORD_REJECTED'
  | 'UNKNOWN_USER'
  | 'SIGN_IN_FAILED'
  | 'CONFIG'
  | 'BACKEND'
  | 'CHALLENGE'
  | 'INTERNAL'

/** Why the policy refused a request (`NOT_ALLOWED`). */
export type NotAllowedReason =
  | 'privileged'
  | 'ineligible'
  | 'not_enabled'
  | 'account_disabled'
  | 'mode_disabled'
  | 'admin_only'
  | 'contact_unproven'
  | 'other'

/** Why a chosen password was refused (`PASSWORD_REJECTED`). */
export type PasswordRefusal =
  | 'too_short'
  | 'too_recent'
  | 'in_history'
  | 'too_simple'
  | 'wrong_current_password'
  | 'guessable'
  | 'breached'
  | 'banned'
  | 'unspecified'

/** The kinds of backend failure the engine acts on. */
export type BackendKind = 'unavailable' | 'password_rejected' | 'rejected' | 'not_supported' | 'other'

/** Every failure of an sspr operation. The message never holds a PIN or a password. */
export declare class SsprError extends Error {
  constructor(info: Partial<ErrorInfo> & { code: ErrorCode | string; message: string }, cause?: unknown)
  readonly name: 'SsprError'
  /** The stable code. */
  readonly code: ErrorCode
  /** `INVALID_INPUT`: the argument refused (`login`, `flow_id`, `email`, `clientIp`, ...). */
  readonly field?: string
  /** `WRONG_PIN`: tries left for this PIN. */
  readonly attemptsLeft?: number
  /** `RATE_LIMITED`: seconds to wait before the same request can succeed. */
  readonly retryAfter?: number
  /** `BLOCKED`: when the block ends. */
  readonly blockedUntil?: Date
  /**
   * `NOT_ALLOWED`: which rule refused; `PASSWORD_REJECTED`: why, in words to show the user;
   * `CHALLENGE`: `required` (no token), `failed` (the provider refused it) or `unavailable`.
   */
  readonly reason?: NotAllowedReason | string
  /** `PASSWORD_REJECTED`: the rule's stable name. */
  readonly refusal?: PasswordRefusal
  /** `PASSWORD_REJECTED`: how to choose a better password (zxcvbn's suggestions), possibly none. */
  readonly suggestions?: string[]
  /** `BACKEND`: the kind of failure. */
  readonly backendKind?: BackendKind
  /** `BACKEND`: what a JavaScript backend threw. */
  readonly cause?: unknown
  /**
   * What a web user is told (sspr-core's one rule, the same in the portal and every router): the HTTP
   * status (400, 401, 403, 409, 410, 429 or 503). An error made in JavaScript: 403.
   */
  readonly status: number
  /** The answer's stable code: `code` in lower case, except `challenge_required`, `challenge_failed`, `challenge_unavailable`. */
  readonly answerCode: string
  /** The pages' catalogue message: `pageText(lang, e.messageId, e.messageArgs)`. */
  readonly messageId: string
  /** The message's arguments. */
  readonly messageArgs: Record<string, string | number | Date>
  /**
   * What a JSON front end acts on, by its JSON name: `attempts_left`, `retry_after_seconds`, `until`
   * (RFC 3339), `field`, `reason`; only those that apply.
   */
  readonly answerFields: Record<string, string | number>
}

/** Thrown by a JavaScript backend to name the kind of its failure. */
export declare class BackendError extends Error {
  constructor(kind: BackendKind, message: string, options?: { cause?: unknown })
  readonly name: 'BackendError'
  readonly kind: BackendKind
}

/** A value or a Promise of it: backend methods may be sync or async. */
export type MaybePromise<T> = T | Promise<T>

/** A directory written in JavaScript (see sspr-core's `Directory` for the contract). */
export interface Directory {
  /** The one user whose login (normalised: lower-case, NFKC) matches, or null. Escape it for your query language. */
  findUser(login: string): MaybePromise<DirectoryUser | null | undefined>
  /** Set the password, with "must change at next sign-in"; throw `BackendError('password_rejected', why)` when the directory refuses it. */
  setPassword(userId: string, password: string, mustChange: boolean): MaybePromise<unknown>
  /** Clear a lockout (idempotent). */
  unlock(userId: string): MaybePromise<unknown>
  /** Check the user's own password. */
  authenticate(userId: string, password: string): MaybePromise<'accepted' | 'must_change' | 'rejected'>
  /** Users whose login or display name contains `query` (case-insensitive), at most `limit`. */
  search(query: string, limit: number): MaybePromise<DirectoryUser[]>
}

/** A contact store written in JavaScript: `save` is a compare-and-set on `version`. */
export interface ContactStore {
  get(userId: string): MaybePromise<Enrollment | null | undefined>
  /** Store `enrollment` as version `expectedVersion + 1` if the stored version is `expectedVersion` (0: none); return whether it did. */
  save(userId: string, enrollment: Enrollment, expectedVersion: number): MaybePromise<boolean>
}

/**
 * Short-lived shared state written in JavaScript (flows, counters, blocks): see sspr-core's
 * `StateStore` for the contract, and prove yours with `testing.checkStateStore`.
 */
export interface StateStore {
  /** The live value under `key` and its version, or null (absent, expired at `now`, or a counter of `increment`: keep counters apart from values). */
  get(key: string, now: Date): MaybePromise<StoredValue | null | undefined>
  /**
   * Compare-and-set: write only if the key is absent or expired (`expectedVersion` null) or
   * its live version is `expectedVersion`; return the new version (1 for a new key, else one
   * more), or null when nothing was written.
   */
  put(key: string, value: Buffer, expectedVersion: number | null, expiresAt: Date, now: Date): MaybePromise<number | null>
  /** Add one atomically, creating the counter at 1 until `expiresAt` if absent or expired (a live counter keeps its expiry). */
  increment(key: string, expiresAt: Date, now: Date): MaybePromise<Counter>
  /** Remove the key (absent: no error). */
  delete(key: string): MaybePromise<unknown>
}

/** sspr-core's conformance suite on a JavaScript backend: rejects with `SsprError` BACKEND naming the broken rule. */
export declare const testing: {
  /** `realTime`: the store expires by its own clock (a Redis TTL), the suite waits for real (8.4 s); without it, one real wait of 1.1 s checks that the store's own clock ends nothing early. */
  checkStateStore(store: StateStore, options?: { realTime?: boolean }): Promise<void>
  checkContactStore(store: ContactStore): Promise<void>
  /** Sets the fixture user's password. */
  checkDirectory(directory: Directory, fixture: DirectoryFixtureInput): Promise<void>
  /**
   * Every notice the engine sends accepted for each destination (give one of every channel the
   * notifier serves), PINs sent at once accepted, a channel it does not serve refused as
   * `rejected`; with `inbox`, each notice arrived once, at its own destination only, with its PIN
   * (waits up to 10 s). Use destinations nobody else reads meanwhile.
   */
  checkNotifier(notifier: Notifier, fixture: { destinations: string[]; inbox?: Inbox }): Promise<void>
}

/** What the recipients of `checkNotifier`'s destinations read: the messages delivered so far, oldest first, as text. */
export interface Inbox {
  read(destination: string): MaybePromise<string[]>
}

/** Delivers notices (PINs go only into the message, never into a log). */
export interface Notifier {
  send(notification: Notification): MaybePromise<unknown>
}

/** One audit event (never a secret; schema `version` 2). */
export interface AuditEvent {
  version: number
  kind: string
  at: string
  outcome: unknown
  /** A keyed reference to the reset flow, the same in all its events (never the flow id, which is a credential). */
  flow_ref?: string | null
  user_id?: string | null
  [field: string]: unknown
}

/** Receives the audit trail. */
export interface AuditSink {
  record(event: AuditEvent): MaybePromise<unknown>
}

/**
 * A check of a password a user chose, after the policy's own: null accepts it, a reason (shown
 * to the user) refuses it; throw `new BackendError('unavailable', ...)` when it cannot check (the policy's
 * `password_check_fail_open` decides).
 */
export interface PasswordChecker {
  check(password: string, login: string, displayName: string): MaybePromise<string | null>
}

/** The reset policy's fields (camelCase here; snake_case is accepted too). Missing fields take their defaults; values out of range are refused with `CONFIG`. */
export interface PolicyOptions {
  pinLength?: number
  pinLifetimeSecs?: number
  flowLifetimeSecs?: number
  maxWrongPins?: number
  resendCooldownSecs?: number
  maxPinsPerFlow?: number
  userSendsPerHour?: number
  userFailuresBeforeBlock?: number
  clientFailuresBeforeBlock?: number
  failuresBeforeDelay?: number
  failureDelaySecs?: number
  maxFailureDelaySecs?: number
  failureWindowSecs?: number
  blockSecs?: number
  ipBeginsPerHour?: number
  ipSendsPerHour?: number
  signInFailuresBeforeLockout?: number
  signInLockoutSecs?: number
  ipSignInsPerHour?: number
  destinationSendsPerHour?: number
  smsBudgetPerHour?: number
  smsBudgetReservePercent?: number
  failureAlarmPerHour?: number
  smsEnabled?: boolean
  confirmFullAddress?: boolean
  minResponseMs?: number
  tempPasswordLength?: number
  minTempPasswordEntropyBits?: number
  allowChosenPassword?: boolean
  chosenPasswordMinLength?: number
  /** zxcvbn's score (0-4) a chosen password must reach (default 3). */
  passwordMinScore?: number
  /** The organisation's name, among zxcvbn's first guesses. */
  organisationName?: string
  /** Accept a chosen password when a checker cannot check (default false: refuse it). */
  passwordCheckFailOpen?: boolean
  allowUnlockOnly?: boolean
  contactCoolingOffSecs?: number
  /** A user's new contact is saved only with the code sent to it (default true). */
  userContactsNeedProof?: boolean
  /** An administrator's too (default false). */
  adminContactsNeedProof?: boolean
  contactProofsPerHour?: number
  /** Ask a signed-in user to confirm contacts older than this (0: never, the default). */
  reconfirmAfterDays?: number
  /** The registration page registration reminders link to. */
  registrationUrl?: string
  /** IANA time zone dates in notices are written in (default `UTC`). */
  timeZone?: string
  reminderIntervalDays?: number
  /** E-mail addresses told when a privileged account's reset is refused or the failure alarm goes off (at most 20). */
  adminAlertAddresses?: string[]
  adminAlertIntervalMinutes?: number
  eligibleOus?: string[]
  eligibleGroups?: string[]
  eligibleAdministrativeUnits?: string[]
  privilegedGroups?: string[]
  privilegedMode?: 'refuse' | 'two_methods'
  decoyCountryCodes?: string[]
  /** Region national phone numbers are read in (`GB`, `DE`); absent: numbers must start with `+` or `00`. */
  defaultRegion?: string | null
  decoyEmailTlds?: string[]
  /** Weights of decoy masks' first character (one lower-case letter or digit per key). */
  decoyEmailInitials?: Record<string, number>
  /** Weights of decoy masks' domain initial (one lower-case letter or digit per key). */
  decoyDomainInitials?: Record<string, number>
}

declare module './native' {
  interface Policy {
    /** Every field (snake_case), as sspr's policy files write them. */
    toJSON(): Record<string, unknown>
  }
}

/** The reset policy. */
export type Policy = NativePolicy
export declare const Policy: typeof NativePolicy & {
  /** A validated policy from options (camelCase or snake_case). */
  from(options: PolicyOptions | NativePolicy): NativePolicy
}

/** A state store on Redis. */
export type RedisStore = NativeRedisStore
export declare const RedisStore: typeof NativeRedisStore & {
  /**
   * Connect (a URL, `rediss://` for TLS or `redis://` on this host, or `{ url, caFile, allowPlaintext, ... }`:
   * `caFile` a private CA's PEM for `rediss://`, `clientCertFile`/`clientKeyFile` for a server that asks for a
   * client certificate, `allowPlaintext` for `redis://` to another host); rejects with
   * `CONFIG` for a bad field, `BACKEND` when unreachable or refused.
   */
  connect(
    config:
      | string
      | {
          url: string
          caFile?: string
          clientCertFile?: string
          clientKeyFile?: string
          allowPlaintext?: boolean
          keyPrefix?: string
          cluster?: boolean
          clusterNodes?: string[]
          connectTimeoutMs?: number
          responseTimeoutMs?: number
          expiryGraceSecs?: number
        },
  ): Promise<NativeRedisStore>
}

/** A contact and state store on PostgreSQL. */
export type PostgresStore = NativePostgresStore
export declare const PostgresStore: typeof NativePostgresStore & {
  /** Connect (a URL or `{ url, caFile, poolSize, connectTimeoutMs, queryTimeoutMs, sweepIntervalSecs }`); rejects with `CONFIG` for a CA file (`caFile`, or the URL's `sslrootcert`) that cannot be read or holds no PEM certificate, or an unknown `sslmode`, and with `BACKEND` when unreachable. */
  connect(
    config: string | { url: string; caFile?: string; poolSize?: number; connectTimeoutMs?: number; queryTimeoutMs?: number; sweepIntervalSecs?: number },
  ): Promise<NativePostgresStore>
}

/** A notifier written in JavaScript or a built-in one. */
export type AnyNotifier = Notifier | N.Outbox | N.SmtpNotifier | N.TwilioSms | N.WebhookNotifier | N.ConfiguredBackend

/** The fields of a backend's own configuration (sspr-backends), camelCase or snake_case. */
type Fields = Record<string, string | number | boolean | null | undefined>

/**
 * The backend configuration the portal reads (sspr-backends' `config`): each table optional
 * (default: in-memory directory and store, the development outbox), each with its `kind`; the
 * other fields are those of the backend's class (`LdapDirectory`, `PostgresStore.connect`,
 * `SmtpNotifier`, ...). Unknown keys are refused.
 */
export interface BackendsConfig {
  directory?: { kind: 'memory' | 'demo'; seedFile?: string } | ({ kind: 'ldap' | 'graph' } & Fields)
  store?: { kind: 'memory' } | { kind: 'sqlite'; path?: string; busyTimeoutMs?: number } | ({ kind: 'postgres'; url: string } & Fields)
  /** Contacts in the LDAP directory's attributes (`'ldap'`, needs `directory.kind` `'ldap'`) or the users' Entra authentication methods (`'graph'`, needs `directory.kind` `'graph'`). */
  contacts?: { kind: 'ldap' | 'graph' } & Fields
  /** A shared state store instead of the `store`'s. */
  state?: ({ kind: 'redis'; url: string } & Fields) | ({ kind: 'postgres'; url: string } & Fields)
  notifier?: { kind: 'outbox' } | ({ kind: 'smtp'; host: string; from: string } & Fields) | ({ kind: 'webhook'; url: string; key: string } & Fields)
  sms?: { kind: 'outbox' } | ({ kind: 'twilio'; accountSid: string; authToken: string } & Fields) | ({ kind: 'webhook'; url: string; key: string } & Fields)
  /** Where audit events go (each behind the bounded `auditQueue`): a JSON-lines file (rotated at `maxBytes`, `keep` old files), SQLite, PostgreSQL, syslog (RFC 5424 over TCP or UDP) or a signed webhook. */
  audit?:
    | { kind: 'json_lines'; path: string; maxBytes?: number; keep?: number }
    | { kind: 'sqlite'; path?: string; busyTimeoutMs?: number }
    | ({ kind: 'postgres'; url: string } & Fields)
    | ({ kind: 'syslog'; address: string; transport?: 'tcp' | 'udp'; facility?: string } & Fields)
    | ({ kind: 'webhook'; url: string; key: string } & Fields)
  /** The queue between the engine and the `audit` sink: `capacity` events wait (default 4096); when full an event is dropped and counted. 0 writes each event inline. */
  auditQueue?: { capacity?: number }
}

/**
 * Backends from configuration (undefined in builds without the cargo feature `config`; the
 * npm package has it).
 */
export declare const backends: undefined | {
  /**
   * Every backend from `config` (an object, or the path of a TOML file with the same tables).
   * `dataDir`: where default files go (the SQLite file without a `path`; default `.`).
   * Rejects with an `SsprError` `CONFIG` for a configuration that does not match the schema
   * (an unknown `kind` or key) or a backend that cannot be set up.
   */
  fromConfig(config: BackendsConfig | string, options?: { dataDir?: string }): Promise<ConfiguredBackends>
}

/** The events a hook can subscribe to. */
export type HookEventName =
  | 'reset_completed'
  | 'user_blocked'
  | 'contacts_changed'
  | 'privileged_attempt_refused'
  | 'delivery_failed'
  | 'failure_alarm'
/** The same names in camelCase. */
export type HookEventCamelName =
  | 'resetCompleted'
  | 'userBlocked'
  | 'contactsChanged'
  | 'privilegedAttemptRefused'
  | 'deliveryFailed'
  | 'failureAlarm'

/** What `new Sspr(...)` is built from. */
export interface SsprOptions {
  directory: Directory | N.MemoryDirectory | N.LdapDirectory | N.ConfiguredBackend
  /** One notifier, or one per channel. */
  notifier: AnyNotifier | { email?: AnyNotifier; sms?: AnyNotifier }
  /** Default: in memory. */
  contacts?: ContactStore | N.MemoryContactStore | N.SqliteStore | NativePostgresStore | N.LdapContactStore | N.ConfiguredBackend
  /** Default: in memory. Share one between instances (SQLite file, Redis, PostgreSQL). */
  store?: StateStore | N.MemoryStateStore | N.SqliteStore | NativeRedisStore | NativePostgresStore | N.ConfiguredBackend
  /** Default: in memory. */
  audit?: AuditSink | N.MemoryAuditSink | N.ConfiguredBackend
  /** Checks of chosen passwords after the policy's, in order: `backends.fromConfig(...).passwordCheckers` and JS ones. */
  passwordCheckers?: Array<PasswordChecker | N.ConfiguredBackend>
  /**
   * A bot challenge `beginReset` asks for: `backends.fromConfig(...).botChallenge`
   * (`[bot_challenge]`); pass the widget's token as `ctx.challengeToken`.
   */
  botChallenge?: N.ConfiguredBackend
  /**
   * Event hooks, called off the request path after each event of their kind (at most 10 s;
   * a throw or rejection is audited as `hook_failed` and never breaks the reset), e.g. to end
   * a user's sessions after a reset. Keys in camelCase or snake_case.
   */
  hooks?: { [E in HookEventName | HookEventCamelName]?: (event: HookEventName, audit: AuditEvent) => unknown }
  /** Default: the system clock. */
  clock?: N.ManualClock
  /**
   * How long one call to a backend may go unanswered, in milliseconds (whole, 1 to 600000; default
   * 30000): a JavaScript method whose Promise has not settled by then is given up, and the call fails as
   * a `BackendError` of kind 'unavailable' (an operation rejects with BACKEND, `backendKind`
   * 'unavailable'; a PIN delivery is retried, then audited as failed). Not bounded by it:
   * `setPassword` and `unlock` in `completeReset` (their own 60 s deadline). Needs the system clock:
   * with a `ManualClock` calls run to their end.
   */
  backendTimeoutMs?: number
  policy?: PolicyOptions | NativePolicy
  /** The server key: 32+ random bytes (hex or bytes), the same on every instance sharing a store. */
  secretKey: string | Uint8Array
  /**
   * Server keys retired by a rotation, newest first (README "Rotating the server key"): still read,
   * never written, so blocks, failure counts and pending resets made under them hold; decoy masks
   * come from the last (oldest). At most 4.
   */
  previousKeys?: Array<string | Uint8Array>
  /** Tests only: a fixed CSPRNG seed (32 bytes or 64 hex digits) makes PINs predictable. */
  rngSeed?: string | Uint8Array
  /** Collect the engine's metrics into the process's Prometheus registry (`metricsText()`). Default false. */
  metrics?: boolean
}

/** The self-service password reset engine. Every operation returns a Promise; failures are `SsprError`s. */
export declare class Sspr {
  constructor(options: SsprOptions)
  /** The policy in force. */
  readonly policy: NativePolicy
  /**
   * What a page needs to show the bot challenge's widget (provider, site key, script, the form field
   * its token arrives in, whether every begin needs it) and `csp`: `cspBase` (default empty) with
   * exactly the sources the provider documents added. `null` when the engine has no bot challenge:
   * pages then stay script-free.
   */
  challengeWidget(cspBase?: string): ChallengeWidget | null
  /** The completion modes the policy allows, the default first. */
  completionModes(): CompletionMode[]
  /**
   * The engine's metrics in the Prometheus text format, for the host's scrape endpoint: every
   * engine of this process built with `metrics: true` counts into one registry (empty while none is).
   */
  metricsText(): string
  /**
   * Wait until every PIN handed to the notifier so far is delivered (or its failure is in the
   * audit trail): `sendPin` does not wait for a slow notifier. Call it at graceful shutdown,
   * and in tests before reading such a notifier's messages.
   */
  flushDeliveries(): Promise<void>
  /**
   * Wait until every audit event recorded so far is stored by the audit sink. The `audit` sink of
   * `backends.fromConfig` sits behind a queue (a slow sink never slows a reset): events still
   * queued when the process exits are lost. At shutdown await `flushDeliveries()`, then this.
   * Rejects with `BACKEND` (kind `unavailable`) when the queue can no longer be drained.
   */
  flushAudit(): Promise<void>
  /** Start a reset: the same answer shape for every login, real or not. */
  beginReset(login: string, ctx?: RequestContext | null): Promise<ResetChallenge>
  /** Send a PIN by `methodId`; `confirm` is the full address when the policy asks for it. */
  sendPin(flowId: string, methodId: string, confirm?: string | null, ctx?: RequestContext | null): Promise<PinSent>
  /** Check the PIN the user typed. */
  verifyPin(flowId: string, pin: string, ctx?: RequestContext | null): Promise<Verified>
  /** Complete a verified reset with a temporary password (the default mode): the answer always holds it. */
  completeReset(
    flowId: string,
    newPassword?: { mode?: 'temporary' } | null,
    ctx?: RequestContext | null,
  ): Promise<ResetOutcome & { temporaryPassword: N.TemporaryPassword }>
  /** Complete a verified reset (default: a temporary password). */
  completeReset(flowId: string, newPassword?: NewPassword | null, ctx?: RequestContext | null): Promise<ResetOutcome>
  /**
   * Check a user's directory password: an administrator's sign-in (privileged accounts get
   * in). For the pages where users manage their own contacts use `signInSelfService`.
   */
  signIn(login: string, password: string, ctx?: RequestContext | null): Promise<SignedIn>
  /**
   * `signIn` for the pages where users manage their own contacts: a privileged, ineligible,
   * disabled or expired account also gives `SIGN_IN_FAILED`, exactly like a wrong password.
   */
  signInSelfService(login: string, password: string, ctx?: RequestContext | null): Promise<SignedIn>
  /**
   * Change a user's password with the current one. An unknown login and a wrong current
   * password give the same `SIGN_IN_FAILED`; a refused new password `PASSWORD_REJECTED` with
   * its `refusal`.
   */
  changePassword(login: string, current: string, newPassword: string, ctx?: RequestContext | null): Promise<void>
  /** The rules a new password must meet, to show before the user types. */
  passwordRules(): Promise<PasswordRules>
  /**
   * Check now that the directory shows who is in the policy's `privilegedGroups` (done anyway
   * before the first lookup; every user is treated as privileged while it cannot). Call it at
   * start-up: rejects with the directory's error, naming the group and the access it lacks.
   */
  checkPrivilegedGroups(): Promise<void>
  /** Admin search by login or display name. */
  searchUsers(query: string, limit?: number): Promise<UserStatus[]>
  /**
   * The user's registered contact details, in full, for the user's own page (not audited). An
   * admin's page uses `adminContacts`.
   */
  contacts(login: string): Promise<Contacts>
  /**
   * A user's registered contact details, in full, read by an administrator (admins only):
   * audited as `contacts_viewed` with the admin as actor and the contacts read masked.
   */
  adminContacts(actor: Actor, login: string, ctx?: RequestContext | null): Promise<Contacts>
  /** Change contact details: a string sets, `null` clears, `undefined` keeps. */
  updateContacts(
    actor: Actor,
    login: string,
    update: { email?: string | null; phone?: string | null },
    ctx?: RequestContext | null,
  ): Promise<Contacts>
  /**
   * Send a one-time code to a contact the user wants to add; `confirmContactProof` with that
   * code saves it. A user's new contact given to `updateContacts` fails with `NOT_ALLOWED`,
   * reason `'contact_unproven'`.
   */
  requestContactProof(
    actor: Actor,
    login: string,
    channel: 'email' | 'sms',
    value: string,
    ctx?: RequestContext | null,
  ): Promise<ContactProof>
  /** Save the contact of the pending proof `proofId` if `code` is the code sent to it. */
  confirmContactProof(
    actor: Actor,
    login: string,
    proofId: string,
    code: string,
    ctx?: RequestContext | null,
  ): Promise<Contacts>
  /** Enable or disable SSPR for a user (admins only). */
  setEnabled(actor: Actor, login: string, enabled: boolean, ctx?: RequestContext | null): Promise<void>
  /** Everything about one user's SSPR state. */
  status(login: string): Promise<UserStatus>
  /** Lift a block (admins only). */
  unblock(actor: Actor, login: string, ctx?: RequestContext | null): Promise<void>
  /**
   * Who has registered for self-service reset among the users inside one of `filter.ous` (if
   * any) and in one of `filter.groups` (if any): counts and one entry per user, contacts masked
   * (admins only).
   */
  enrollmentReport(actor: Actor, filter?: EnrollmentFilter | null, ctx?: RequestContext | null): Promise<EnrollmentReport>
  /**
   * Mail a reminder (the policy's `registration_url`) to the directory mailbox of each enabled
   * user of the filter without contacts or with stale ones, at most once per
   * `reminder_interval_days`; never to privileged users (admins only).
   */
  sendRegistrationReminders(
    actor: Actor,
    filter?: EnrollmentFilter | null,
    ctx?: RequestContext | null,
  ): Promise<ReminderRun>
  /** Confirm that the user's contacts are still right (asked once `confirmDue`). */
  confirmContacts(actor: Actor, login: string, ctx?: RequestContext | null): Promise<Contacts>
  /**
   * Issue a one-time helpdesk recovery code for `login` (admins only): `code.reveal()` it to
   * the administrator once. The user redeems it with `redeemRecoveryCode` (once, 15 minutes).
   */
  adminRecovery(actor: Actor, login: string, ctx?: RequestContext | null): Promise<RecoveryCode>
  /** Issue a recovery code and send it to the user's registered contact by `channel`. */
  adminSendRecoveryCode(
    actor: Actor,
    login: string,
    channel: 'email' | 'sms',
    ctx?: RequestContext | null,
  ): Promise<RecoverySent>
  /**
   * Redeem a helpdesk recovery code: a reset flow already verified (give `flowId` to
   * `completeReset`). Every refusal is `WRONG_PIN` with no attempts left.
   */
  redeemRecoveryCode(login: string, code: string, ctx?: RequestContext | null): Promise<Recovered>
}

/**
 * sspr-core's pure functions, for the shared test vectors: only in builds with the cargo
 * feature `vectors` (the test suite's); undefined in the npm package.
 */
export declare const core: undefined | {
  pinGenerate(seed: string, digits: number, count: number): string[]
  pinHash(keyHex: string, flowId: string, pin: string): string
  identityTokens(login: string, displayName: string): string[]
  tempPasswordGenerate(seed: string, length: number, tokens: string[], count: number): string[]
  tempPasswordEntropyBits(length: number): number
  normalizeLogin(login: string): string
  maskEmail(input: string): Masked
  maskPhone(input: string): Masked
  decoyMethods(keyHex: string, policy: NativePolicy, login: string): DecoyMethod[]
  /** Throws the `SsprError` of a core error described as tests/parity/answers.json writes it. */
  throwError(caseJson: string): never
  /** Benchmark reference: seconds for `count` whole flows driven from Rust (in-memory backends). */
  referenceFlows(count: number): number
}
