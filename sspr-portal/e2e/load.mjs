// Load run against a running portal: N concurrent reset flows, each a browser-like client
// with its own session cookie walking every page of /passwordreset (login, method, PIN read
// from the development outbox, verification, temporary password). Bounded in time; every
// answer is checked. Prints one JSON line of results. Run by scripts/portal-load.sh and
// scripts/bench/portal-two-instances.sh.
//
//   PORTAL_URL=http://127.0.0.1:PORT FLOWS=1000 DEADLINE_S=300 node load.mjs
//
// Several instances: PORTAL_URLS=http://a,http://b makes this the round-robin balancer, with
// no sticky sessions: each request of a flow goes to the next instance (flow i's k-th request
// to instance (i + k) mod n), so every step of every flow lands on another instance than the
// step before. The PIN is read from whichever instance's development outbox holds it; under
// PORTAL_URLS (one instance or several) those reads are the harness's, not the user's, and
// stay out of the figures (under PORTAL_URL the one read counts, as it always did). FORWARDED=1 sends
// each flow as its own client address in X-Forwarded-For (as a balancer does; list 127.0.0.1
// in the portal's trusted_proxies), so per-address caps and limits apply as in production.
// PAD_MS (the portal's min_response_ms) is subtracted from each padded answer (the posts of
// begin, send and verify: the engine pads begin_reset, send_pin and verify_pin, not
// complete_reset) in the *_net figures: what is left is the portal's own time beyond the
// padding.
// POOL=N: send through N keep-alive connections per instance (node:http), as a balancer keeps
// a pool of upstream connections, instead of one fetch() connection per flow: at 10,000 flows
// one connection each, the client spent its time opening sockets (connect timeouts at the
// start) and parsing fetch() responses, and was the bottleneck, not the portals.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const URLS = (process.env.PORTAL_URLS ?? process.env.PORTAL_URL ?? '').split(',').filter((u) => u);
if (URLS.length === 0) throw new Error('PORTAL_URL is not set: run scripts/portal-load.sh');
/** PORTAL_URL: the outbox read counts as a request of the flow, as it always did. */
const OUTBOX_COUNTS = !process.env.PORTAL_URLS;
const FORWARDED = process.env.FORWARDED === '1';
const PAD_MS = Number(process.env.PAD_MS ?? 0);
const POOL = Number(process.env.POOL ?? 0);
const agent = POOL > 0 ? new http.Agent({ keepAlive: true, maxSockets: POOL }) : null;
const PADDED = new Set(['/passwordreset/begin', '/passwordreset/send', '/passwordreset/verify']);
const FLOWS = Number(process.env.FLOWS ?? 1000);
const DEADLINE_S = Number(process.env.DEADLINE_S ?? 300);
/** SEQUENTIAL=1: one flow after the other (the latency of an unloaded portal). */
const SEQUENTIAL = process.env.SEQUENTIAL === '1';
/** Users are load{OFFSET}..load{OFFSET+FLOWS-1}. */
const OFFSET = Number(process.env.OFFSET ?? 0);
const LOGIN = (i) => `load${i}@example.org`;
const ADDRESS = (i) => `load${i}@mail.example`;

const requests = []; // latency of every request, ms
const requestsNet = []; // the same, padding subtracted
const flows = []; // latency of every whole flow, ms
const flowsNet = []; // the same, padding subtracted
const errors = [];
let outboxReads = 0;

/** A distinct client address per flow (10.0.0.0/8). */
/** One request through the pool: status, set-cookie, body text. */
const pooled = (url, method, headers, body) =>
  new Promise((resolve, reject) => {
    const request = http.request(url, { method, headers, agent }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          setCookie: response.headers['set-cookie']?.[0] ?? null,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });

/** One request by fetch(), its own connection per flow. */
const fetched = async (url, method, headers, body) => {
  const response = await fetch(url, {
    method,
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(DEADLINE_S * 1000),
  });
  const text = await response.text();
  return { status: response.status, setCookie: response.headers.get('set-cookie'), text };
};

const addressOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

class Client {
  cookie = null;
  /** Requests made so far (picks the next instance). */
  turn = 0;
  /** Padding in this flow's answers so far, ms. */
  padded = 0;
  constructor(index) {
    this.index = index;
  }
  async request(path, form, base) {
    const url = base ?? URLS[(this.index + this.turn++) % URLS.length];
    const headers = {};
    if (FORWARDED) headers['x-forwarded-for'] = addressOf(this.index);
    if (this.cookie) headers.cookie = this.cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const started = performance.now();
    const send = agent ? pooled : fetched;
    const response = await send(`${url}${path}`, form ? 'POST' : 'GET', headers, body);
    const text = response.text;
    const ms = performance.now() - started;
    if (base === undefined) {
      requests.push(ms);
      const pad = form && PADDED.has(path) ? PAD_MS : 0;
      this.padded += pad;
      requestsNet.push(Math.max(0, ms - pad));
    }
    if (response.setCookie) this.cookie = response.setCookie.split(';')[0];
    return { status: response.status, text };
  }
  async page(path, form, expectStatus) {
    const r = await this.request(path, form);
    if (r.status !== expectStatus) throw new Error(`${form ? 'POST' : 'GET'} ${path}: status ${r.status}`);
    return r.text;
  }
  /** The PIN sent to `address`, from whichever instance's outbox holds it. */
  async pinFor(address) {
    for (let k = 0; k < URLS.length; k++) {
      const base = URLS[(this.index + this.turn + k) % URLS.length];
      outboxReads++;
      // Under PORTAL_URL an ordinary request of the flow (base undefined: counted).
      const r = await this.request(`/outbox?to=${encodeURIComponent(address)}`, null, OUTBOX_COUNTS ? undefined : base);
      if (r.status !== 200) throw new Error(`GET /outbox: status ${r.status}`);
      const pin = r.text.match(/Your code is (\d+)/)?.[1];
      if (pin) return pin;
    }
    throw new Error('no PIN in any outbox');
  }
}

const csrfOf = (html) => {
  const m = html.match(/name="csrf" value="([0-9a-f]{64,})"/);
  if (!m) throw new Error('no CSRF token');
  return m[1];
};

async function flow(i) {
  const c = new Client(i);
  const started = performance.now();
  const csrf = csrfOf(await c.page('/passwordreset', null, 200));
  await c.page('/passwordreset/begin', { csrf, login: LOGIN(i) }, 303);
  const methods = await c.page('/passwordreset', null, 200);
  if (!methods.includes('value="email"')) throw new Error('no e-mail method offered');
  await c.page('/passwordreset/send', { csrf, method: 'email' }, 303);
  const pinPage = await c.page('/passwordreset', null, 200);
  if (!pinPage.includes('id="pin-status"')) throw new Error(`no PIN form: ${pinPage.match(/role="alert">([^<]*)/)?.[1]}`);
  const pin = await c.pinFor(ADDRESS(i));
  await c.page('/passwordreset/verify', { csrf, pin }, 303);
  const modes = await c.page('/passwordreset', null, 200);
  if (!modes.includes('value="temporary"')) throw new Error('PIN not accepted');
  // A verified PIN moves the session to a new id and CSRF token.
  const done = await c.page('/passwordreset/complete', { csrf: csrfOf(modes), mode: 'temporary' }, 200);
  if (!/id="temporary-password">[^<]{16}</.test(done)) throw new Error('no temporary password');
  const ms = performance.now() - started;
  flows.push(ms);
  flowsNet.push(Math.max(0, ms - c.padded));
}

const pct = (values, p) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

const started = performance.now();
const deadline = new Promise((resolve) => setTimeout(() => resolve('deadline'), DEADLINE_S * 1000).unref());
const one = (i) =>
  flow(OFFSET + i).catch((e) => {
    errors.push(`flow ${OFFSET + i}: ${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}${e.code ? ` (${e.code})` : ''}`);
  });
const all = SEQUENTIAL
  ? (async () => {
      for (let i = 0; i < FLOWS; i++) await one(i);
    })()
  : Promise.all(Array.from({ length: FLOWS }, (_, i) => one(i)));
const outcome = await Promise.race([all.then(() => 'done'), deadline]);
const wall = (performance.now() - started) / 1000;
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
const stats = (values) => ({
  p50: round(pct(values, 50)),
  p95: round(pct(values, 95)),
  p99: round(pct(values, 99)),
  max: round(pct(values, 100)),
});
const result = {
  instances: URLS.length,
  pool: POOL,
  pad_ms: PAD_MS,
  sequential: SEQUENTIAL,
  flows: FLOWS,
  completed: flows.length,
  errors: errors.length,
  first_errors: errors.slice(0, 5),
  timed_out: outcome === 'deadline',
  wall_s: round(wall),
  requests: requests.length,
  requests_per_s: round(requests.length / wall),
  flows_per_s: round(flows.length / wall),
  outbox_reads: outboxReads,
  request_ms: stats(requests),
  flow_ms: stats(flows),
  request_ms_net: stats(requestsNet),
  flow_ms_net: stats(flowsNet),
};
console.log(JSON.stringify(result));
process.exit(result.errors === 0 && !result.timed_out && result.completed === FLOWS ? 0 : 1);
