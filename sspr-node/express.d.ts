// Types of `require('sspr/express')`: the anonymous reset flow as Express middleware.
import type { Locale, Sspr } from './index'

/** Options of `ssprRouter`. */
export interface SsprRouterOptions {
  /** The engine the flow runs on. */
  sspr: Sspr
  /** Also serve the server-rendered pages (`GET /` and its forms); default `true`. The JSON API is always served. */
  pages?: boolean
  /** Other origins (`https://app.example.org`) whose front end may call the JSON API; default none (same origin only). */
  allowedOrigins?: string[]
  /** Mark the cookies `Secure`; default: when the request came over https (`req.secure`, after `trust proxy`). */
  secureCookies?: boolean
  /**
   * The site's page around each form: `title` is text (escape it), `bodyHtml` is HTML, `lang` the language the
   * page is written in (for `<html lang>`).
   */
  layout?: (title: string, bodyHtml: string, lang: Locale) => string
  /**
   * The languages served (`['de', 'fr']`; `['de']` forces German); default all six (`en`, `de`, `fr`, `es`,
   * `it`, `nl`). Each request gets the best of them for its `Accept-Language`, else English when offered, else
   * the first. The pages, the JSON API's messages and the notices the request causes are in that language. An
   * unknown language throws `INVALID_INPUT` when the router is made.
   */
  languages?: Locale[]
}

/** Express-compatible middleware (`app.use('/password', ssprRouter({ sspr }))`). */
export type SsprRouter = (req: any, res: any, next: (err?: unknown) => void) => void

/**
 * The reset flow under the mount: pages at `GET /` and the JSON API (`POST /api/begin` `{login}`, `/api/send`
 * `{method, confirm?}`, `/api/verify` `{pin}`, `/api/complete` `{mode?, password?}`). The flow id is kept in an
 * HttpOnly, SameSite=Strict cookie scoped to the mount (over https `__Host-sspr_flow`, `Path=/`, which a sibling
 * subdomain cannot set; a request carrying the flow or CSRF cookie twice is refused, 403 `csrf`); forms carry a CSRF token and are refused when the browser
 * says another site or a sibling subdomain posted them (`Sec-Fetch-Site`); the JSON API takes
 * `application/json` only and refuses a foreign `Origin`. The client address is Express's `req.ip`: set the
 * app's `trust proxy` for the reverse proxies you run. Errors: `{ error, message, ... }` with sspr's code in
 * snake_case (`wrong_pin` + `attempts_left`, `rate_limited` + `retry_after_seconds`, `invalid_input` + `field`).
 *
 * Every text a user reads (pages and the JSON API's `message`) comes from sspr's one catalogue, in the language
 * negotiated from `Accept-Language` (see `languages`); `<html lang>` and `Content-Language` name it.
 *
 * With a bot challenge on the engine (`botChallenge`), the start page shows the provider's widget (from
 * `sspr.challengeWidget()`, never the configuration) when every begin needs it, or after a begin was refused for
 * it, and only that page's CSP allows the provider's sources. `POST /begin` reads the provider's form field
 * (`cf-turnstile-response`, `h-captcha-response`, `g-recaptcha-response`), `POST /api/begin` the JSON field
 * `challenge_token`. Refusals: 403 `challenge_required` / `challenge_failed` (with `provider` and `site_key`),
 * 503 `challenge_unavailable` (the provider cannot be asked; nothing begins).
 */
export declare function ssprRouter(options: SsprRouterOptions): SsprRouter
/** The default page around each form (`lang` defaults to `'en'`). */
export declare function defaultLayout(title: string, bodyHtml: string, lang?: string): string
/** The cookie holding the flow id (over https with the `__Host-` prefix). */
export declare const FLOW_COOKIE: 'sspr_flow'
/** The cookie the forms' CSRF token is matched against (over https with the `__Host-` prefix). */
export declare const CSRF_COOKIE: 'sspr_csrf'
