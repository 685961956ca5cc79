// Load run against a running portal: N concurrent reset flows, each a browser-like client
// with its own session cookie walking every page of /passwordreset (login, method, PIN read
// from the development outbox, verification, temporary password). Bounded in time; every
// answer is checked. Prints one JSON line of results. Run by scripts/portal-load.sh.
//
//   PORTAL_URL=http://127.0.0.1:PORT FLOWS=1000 DEADLINE_S=300 node load.mjs
import { performance } from 'node:perf_hooks';

const URL = process.env.PORTAL_URL;
if (!URL) throw new Error('PORTAL_URL is not set: run scripts/portal-load.sh');
const FLOWS = Number(process.env.FLOWS ?? 1000);
const DEADLINE_S = Number(process.env.DEADLINE_S ?? 300);
/** SEQUENTIAL=1: one flow after the other (the latency of an unloaded portal). */
const SEQUENTIAL = process.env.SEQUENTIAL === '1';
/** Users are load{OFFSET}..load{OFFSET+FLOWS-1}. */
const OFFSET = Number(process.env.OFFSET ?? 0);
const LOGIN = (i) => `load${i}@example.org`;
const ADDRESS = (i) => `load${i}@mail.example`;

const requests = []; // latency of every request, ms
const flows = []; // latency of every whole flow, ms
const errors = [];

class Client {
  cookie = null;
  async request(path, form) {
    const headers = {};
    if (this.cookie) headers.cookie = this.cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const started = performance.now();
    const response = await fetch(`${URL}${path}`, {
      method: form ? 'POST' : 'GET',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(DEADLINE_S * 1000),
    });
    const text = await response.text();
    requests.push(performance.now() - started);
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    return { status: response.status, text };
  }
  async page(path, form, expectStatus) {
    const r = await this.request(path, form);
    if (r.status !== expectStatus) throw new Error(`${form ? 'POST' : 'GET'} ${path}: status ${r.status}`);
    return r.text;
  }
}

const csrfOf = (html) => {
  const m = html.match(/name="csrf" value="([0-9a-f]{64,})"/);
  if (!m) throw new Error('no CSRF token');
  return m[1];
};

async function flow(i) {
  const c = new Client();
  const started = performance.now();
  const csrf = csrfOf(await c.page('/passwordreset', null, 200));
  await c.page('/passwordreset/begin', { csrf, login: LOGIN(i) }, 303);
  const methods = await c.page('/passwordreset', null, 200);
  if (!methods.includes('value="email"')) throw new Error('no e-mail method offered');
  await c.page('/passwordreset/send', { csrf, method: 'email' }, 303);
  const pinPage = await c.page('/passwordreset', null, 200);
  if (!pinPage.includes('id="pin-status"')) throw new Error(`no PIN form: ${pinPage.match(/role="alert">([^<]*)/)?.[1]}`);
  const outbox = await c.page(`/outbox?to=${encodeURIComponent(ADDRESS(i))}`, null, 200);
  const pin = outbox.match(/Your code is (\d+)/)?.[1];
  if (!pin) throw new Error('no PIN in the outbox');
  await c.page('/passwordreset/verify', { csrf, pin }, 303);
  const modes = await c.page('/passwordreset', null, 200);
  if (!modes.includes('value="temporary"')) throw new Error('PIN not accepted');
  // A verified PIN moves the session to a new id and CSRF token.
  const done = await c.page('/passwordreset/complete', { csrf: csrfOf(modes), mode: 'temporary' }, 200);
  if (!/id="temporary-password">[^<]{16}</.test(done)) throw new Error('no temporary password');
  flows.push(performance.now() - started);
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
    errors.push(`flow ${OFFSET + i}: ${e.message}`);
  });
const all = SEQUENTIAL
  ? (async () => {
      for (let i = 0; i < FLOWS; i++) await one(i);
    })()
  : Promise.all(Array.from({ length: FLOWS }, (_, i) => one(i)));
const outcome = await Promise.race([all.then(() => 'done'), deadline]);
const wall = (performance.now() - started) / 1000;
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
const result = {
  sequential: SEQUENTIAL,
  flows: FLOWS,
  completed: flows.length,
  errors: errors.length,
  first_errors: errors.slice(0, 5),
  timed_out: outcome === 'deadline',
  wall_s: round(wall),
  requests: requests.length,
  requests_per_s: round(requests.length / wall),
  request_ms: { p50: round(pct(requests, 50)), p95: round(pct(requests, 95)), p99: round(pct(requests, 99)), max: round(pct(requests, 100)) },
  flow_ms: { p50: round(pct(flows, 50)), p95: round(pct(flows, 95)), p99: round(pct(flows, 99)), max: round(pct(flows, 100)) },
};
console.log(JSON.stringify(result));
process.exit(result.errors === 0 && !result.timed_out && result.completed === FLOWS ? 0 : 1);
