// `make bench`: what a visitor and the server pay, measured from outside on a release build
// (`make release`: hashed, precompressed assets) against the test provider on loopback.
// Prints one table and asserts nothing about speed:
// - throughput of the home page signed out, signed in and without `auth.install` (a server of
//   bench.config.ts's), and of a static file with and without keep-alive (wrk, loopback,
//   WRK_SECONDS each);
// - the identity cookie's server CPU (auth-tests/benches/identity.rs, which `make bench` runs
//   first into ../target/bench/identity.txt);
// - sign-in and sign-out in headless chromium (median of BENCH_ROUNDS), the server's time for
//   the login and the callback and what it asked the provider, memory, cookie size;
// - the wasm over the wire raw, gzip and brotli, and what sign-in adds to an app's
//   (bench/wasm-sizes.sh, into ../target/bench/wasm.txt), and the instructions of a request
//   with and without auth.install, signed in and out (bench/instructions.sh, into
//   ../target/bench/instructions.txt); the bytes of a first and a repeat
//   visit and the time to a hydrated page;
// - the server's memory against the number of sessions in each session mode (sessions made
//   by auth-tests/examples/mint_sessions.rs, used by wrk with bench/cookies.lua);
// - the provider far away: sign-in against a second test provider behind bench/delay-proxy.mjs
//   (BENCH_FAR_DELAY_MS each way on the servers' requests, none on the browser's), this app's
//   and Streamlit's, with the callback's server time and its provider requests; and on the
//   tokens client, a refresh and a logout with revocation and logout at the provider.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type APIRequestContext, type Browser, type BrowserContext, type Page, expect, test } from '@playwright/test';
import {
  APP_PORT,
  APP_URL,
  BENCH_FAR_DELAY_MS,
  BENCH_FAR_ISSUER,
  BENCH_FAR_OIDC_PORT,
  BENCH_FAR_STREAMLIT_URL,
  BENCH_FAR_TOKENS_URL,
  BENCH_FAR_URL,
  BENCH_SQLITE_SESSIONS,
  BENCH_SQLITE_URL,
  BENCH_STREAMLIT,
  BENCH_STREAMLIT_URL,
  BENCH_WITHOUT_AUTH_URL,
  COOKIE_UPSTREAMS,
  ISSUER,
  POSTGRES_SESSION_STORE,
  POSTGRES_UPSTREAMS,
  REDIS_PID_FILE,
  REDIS_PORT,
  STORE_UPSTREAMS,
} from '../playwright.config';
import { greeting, hydrated } from '../tests/helpers/app';
import { providerRecord } from '../tests/helpers/idp';
import { type LoginTiming, stampMoments, timeLogin, timeLogout } from './signin-timing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WRK_SECONDS = Number(process.env.WRK_SECONDS ?? 3);
const WRK_RUNS = Number(process.env.WRK_RUNS ?? 3);
const IDENTITY_RESULT = '../target/bench/identity.txt';
const WASM_RESULT = '../target/bench/wasm.txt';
const INSTRUCTIONS_RESULT = '../target/bench/instructions.txt';
const MINT_SESSIONS = '../target/release/examples/mint_sessions';
/** The session counts the memory bench makes in each mode. */
const SESSION_COUNTS = [1_000, 10_000];
/** The test provider's name for `alice`. */
const ALICE = 'Alice Example';

const rows: [string, string | number][] = [];
/** This app's medians, for the comparison with Streamlit's. */
const ours = { login: NaN, logout: NaN };
const row = (what: string, value: string | number) => rows.push([what, value]);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

/** Resident memory of the server listening on `port`, in MB (Linux). */
function serverMemoryMb(port: number): number {
  const pids = execFileSync('sh', ['-c', `ss -ltnpH 'sport = :${port}' | grep -o 'pid=[0-9]*' | cut -d= -f2`])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  const status = readFileSync(`/proc/${pids[0]}/status`).toString();
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/**
 * wrk against `path` of `base` on loopback: requests per second and the 99th percentile
 * latency. `cookies` names a file of Cookie headers to spread the requests over.
 */
function wrk(path: string, headers: string[] = [], base = APP_URL, cookies?: string) {
  const args = ['-t1', '-c8', `-d${WRK_SECONDS}s`, '--latency'];
  for (const header of headers) args.push('-H', header);
  if (cookies) args.push('-s', 'bench/cookies.lua');
  const out = execFileSync('wrk', [...args, `${base}${path}`], {
    env: { ...process.env, ...(cookies ? { COOKIES: cookies } : {}) },
  }).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /\s50%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  const p99 = /\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (errors) throw new Error(`wrk ${path}: ${errors} error responses\n${out}`);
  return { rps, p50, p99, text: `${thousands(rps)} req/s (p99 ${p99})` };
}

type WrkResult = ReturnType<typeof wrk>;

/** Runs every case once, WRK_RUNS times over; for each case, its median run (requests/s). */
function alternating<K extends string>(cases: Record<K, () => WrkResult>): Record<K, WrkResult> {
  const results = Object.fromEntries(Object.keys(cases).map((name) => [name, [] as WrkResult[]])) as Record<
    K,
    WrkResult[]
  >;
  for (let run = 0; run < WRK_RUNS; run++) {
    for (const name of Object.keys(cases) as K[]) results[name].push(cases[name]());
  }
  const medianRun = (runs: WrkResult[]) => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
  return Object.fromEntries(Object.entries(results).map(([name, runs]) => [name, medianRun(runs as WrkResult[])])) as Record<
    K,
    WrkResult
  >;
}

/** The wasm, JavaScript and stylesheet the home page names. */
async function assets(request: APIRequestContext) {
  const html = await (await request.get('/')).text();
  const find = (pattern: RegExp) => pattern.exec(html)?.[1] ?? '';
  return {
    wasm: find(/href="(\/pkg\/[^"]+\.wasm)"/),
    css: find(/<link[^>]*rel="stylesheet"[^>]*href="(\/pkg\/[^"]+\.css)"/),
  };
}

/** Bytes over the network (headers included) for one visit to `/`, per path, and the time
 * from the navigation's start to the hydrated page (app/src/lib.rs marks <body>). */
async function visit(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  let total = 0;
  const paths: string[] = [];
  cdp.on('Network.responseReceived', (event) => urls.set(event.requestId, event.response.url));
  cdp.on('Network.loadingFinished', (event) => {
    total += event.encodedDataLength;
    if (event.encodedDataLength > 0) paths.push(new URL(urls.get(event.requestId) ?? APP_URL).pathname);
  });
  await page.goto('/');
  await hydrated(page);
  const hydratedAt = await page.evaluate(() => (window as unknown as { benchHydratedAt: number }).benchHydratedAt);
  await cdp.detach();
  return { total, paths, hydratedAt };
}

/** Records, in every page of `context`, when <body> gets `data-hydrated` (ms since the
 * navigation started). */
async function markHydration(context: BrowserContext) {
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.hasAttribute('data-hydrated')) {
        (window as unknown as { benchHydratedAt: number }).benchHydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
}

/** Requests to the provider by `METHOD /path`, from its admin record. */
async function providerRequests(): Promise<Record<string, number>> {
  return (await providerRecord()).requests;
}

/** What the server asks the provider itself; everything else is the browser's. */
const SERVER_TO_PROVIDER = /^(POST \/token|GET \/me|GET \/jwks|GET \/\.well-known\/)/;

test.afterAll(() => {
  // A failed test restarts the worker, and with it this list.
  if (rows.length === 0) return;
  const width = Math.max(...rows.map(([what]) => what.length));
  const lines = rows.map(([what, value]) => `| ${what.padEnd(width)} | ${value} |`);
  console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | --- |\n${lines.join('\n')}\n`);
});

test('what a visitor and the server pay', async ({ browser, page, context, request }) => {
  test.setTimeout(ROUNDS * 15_000 + 5 * WRK_RUNS * (WRK_SECONDS + 2) * 1000 + 60_000);
  const idleMb = serverMemoryMb(APP_PORT);

  // The wasm as served for each Accept-Encoding.
  const { wasm, css } = await assets(request);
  expect(wasm).not.toBe('');
  const wire = async (encoding: string) =>
    Number((await request.get(wasm, { headers: { 'accept-encoding': encoding } })).headers()['content-length']);
  row('release wasm: raw / gzip / brotli', `${kb(await wire('identity'))} / ${kb(await wire('gzip'))} / ${kb(await wire('br'))}`);
  for (const result of [WASM_RESULT, INSTRUCTIONS_RESULT]) {
    if (!existsSync(result)) continue;
    for (const line of readFileSync(result).toString().trim().split('\n')) {
      const [what, value] = line.split('|').map((cell) => cell.trim()).filter(Boolean);
      row(what, value);
    }
  }

  // First and repeat visits to the home page, each in a fresh browser (cache empty).
  {
    const firstTotals: number[] = [];
    const hydrations: number[] = [];
    let again = { total: 0, paths: [] as string[] };
    for (let round = 0; round < 5; round++) {
      const fresh = await browser.newContext();
      await markHydration(fresh);
      const tab = await fresh.newPage();
      const first = await visit(fresh, tab);
      firstTotals.push(first.total);
      hydrations.push(first.hydratedAt);
      again = await visit(fresh, tab);
      await fresh.close();
    }
    row('first visit to / over the wire (all requests)', kb(median(firstTotals)));
    row('first visit: navigation start to hydrated page (median of 5, ms)', Math.round(median(hydrations)));
    row('repeat visit to / over the wire', `${kb(again.total)} (${again.paths.join(', ') || 'nothing'})`);
  }

  // Sign-in and sign-out in the browser (timed inside it: signin-timing.ts), with the
  // server's time for its two steps (from the browser: request sent to response started, on
  // loopback) and what it asked the provider.
  await stampMoments(context, `Hello, ${ALICE}!`);
  const logins: LoginTiming[] = [];
  const logouts: number[] = [];
  const serverTimes: Record<string, number[]> = { '/api/auth/login': [], '/oauth2callback': [] };
  page.on('response', (response) => {
    const url = new URL(response.url());
    const times = url.origin === APP_URL ? serverTimes[url.pathname] : undefined;
    const timing = response.request().timing();
    if (times && timing.responseStart > 0) times.push(timing.responseStart - timing.requestStart);
  });
  const providerBefore = await providerRequests();
  let cookie = '';
  for (let round = 0; round < ROUNDS; round++) {
    logins.push(await timeLogin(page, `${APP_URL}/`, `Hello, ${ALICE}!`));
    await expect(greeting(page)).toHaveText(`Hello, ${ALICE}!`);
    const identity = (await context.cookies()).find((c) => c.name === 'auth_user');
    cookie = identity ? `${identity.name}=${identity.value}` : '';
    logouts.push(await timeLogout(page));
  }
  ours.login = median(logins.map((timing) => timing.total));
  ours.logout = median(logouts);
  const { login, logout } = ours;
  row(
    'click "Log in" to "Hello, NAME!": to the provider\'s form + its submit to the greeting (median ms)',
    `${Math.round(login)} (${Math.round(median(logins.map((t) => t.toProvider)))} + ${Math.round(median(logins.map((t) => t.back)))})`,
  );
  row('click "Log out" to "Log in" (median ms)', Math.round(logout));
  const ms = (values: number[]) => `${median(values).toFixed(2)} ms`;
  row(
    'server time: login server function / callback (median; the callback includes its provider calls)',
    `${ms(serverTimes['/api/auth/login'])} / ${ms(serverTimes['/oauth2callback'])}`,
  );
  const providerAfter = await providerRequests();
  const byServer = Object.entries(providerAfter)
    .map(([request, count]) => [request, (count - (providerBefore[request] ?? 0)) / ROUNDS] as const)
    .filter(([request, perLogin]) => perLogin > 0 && SERVER_TO_PROVIDER.test(request));
  row(
    'requests from the server to the provider per login',
    byServer.map(([request, perLogin]) => `${request} ${perLogin}`).join(', ') || 'none',
  );
  row(`server memory idle / after ${ROUNDS} logins (MB)`, `${idleMb} / ${serverMemoryMb(APP_PORT)}`);
  row('identity cookie, name + value (bytes)', cookie.length);

  // Throughput from outside. The cookie is still valid: logout only made the browser forget it.
  expect(cookie).not.toBe('');
  const signedIn = await request.get('/', { headers: { cookie } });
  expect(await signedIn.text()).toContain('Alice Example');
  // Each case in turn, WRK_RUNS times over, and each case's median run: the ratios between
  // cases are what matter, and alternating spreads the machine's own drift over all of them.
  const runs = alternating({
    out: () => wrk('/'),
    inside: () => wrk('/', [`Cookie: ${cookie}`]),
    bare: () => wrk('/', [], BENCH_WITHOUT_AUTH_URL),
    alive: () => wrk(css),
    closed: () => wrk(css, ['Connection: close']),
  });
  const { out, inside, bare, alive, closed } = runs;
  row(`home page signed out (wrk -t1 -c8, ${WRK_SECONDS} s, median of ${WRK_RUNS} alternating runs)`, out.text);
  row('home page signed in', `${inside.text}; ${(inside.rps / out.rps).toFixed(2)} of signed out`);
  row(
    'same page on a server without auth.install',
    `${bare.text}; signed out with auth is ${(out.rps / bare.rps).toFixed(2)} of it`,
  );
  row(`static file ${css.replace(/^.*\//, '')} keep-alive`, alive.text);
  row('same, Connection: close', `${closed.text}; keep-alive is ${(alive.rps / closed.rps).toFixed(2)}×`);

  row(
    'identity cookie to User, server CPU (median; cargo bench -p leptos-login-tests --bench identity)',
    existsSync(IDENTITY_RESULT) ? readFileSync(IDENTITY_RESULT).toString().trim() : 'not run',
  );
});

test('the same sign-in on Streamlit 1.67, on the same provider and browser', async ({ browser }) => {
  test.setTimeout(ROUNDS * 20_000 + 60_000);
  if (!existsSync(BENCH_STREAMLIT)) {
    row('Streamlit 1.67', 'not installed (scripts/setup.sh bench installs it)');
    return;
  }
  const port = Number(new URL(BENCH_STREAMLIT_URL).port);
  const idleMb = serverMemoryMb(port);
  const context = await browser.newContext();
  const page = await context.newPage();
  await stampMoments(context, `Hello, ${ALICE}!`);
  const logins: LoginTiming[] = [];
  const logouts: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    logins.push(await timeLogin(page, `${BENCH_STREAMLIT_URL}/`, `Hello, ${ALICE}!`));
    logouts.push(await timeLogout(page));
  }
  await context.close();
  const login = median(logins.map((timing) => timing.total));
  const logout = median(logouts);
  row(
    'Streamlit: click "Log in" to "Hello, NAME!", the same way (median ms)',
    `${Math.round(login)} (${Math.round(median(logins.map((t) => t.toProvider)))} + ${Math.round(median(logins.map((t) => t.back)))}); this app is ${(login / ours.login).toFixed(1)}× faster`,
  );
  row(
    'Streamlit: click "Log out" to "Log in" (median ms)',
    `${Math.round(logout)}; this app is ${(logout / ours.logout).toFixed(1)}× faster`,
  );
  row(`Streamlit: server memory idle / after ${ROUNDS} logins (MB)`, `${idleMb} / ${serverMemoryMb(port)}`);
});

/** The e2e servers' cookie_secret (secrets.e2e.toml), with which sessions are sealed. */
function cookieSecret(): string {
  const secrets = readFileSync('secrets.e2e.toml').toString();
  const secret = /^cookie_secret\s*=\s*"([^"]+)"/m.exec(secrets)?.[1];
  if (!secret) throw new Error('no cookie_secret in secrets.e2e.toml');
  return secret;
}

test('server memory against the number of sessions, by session mode', async ({ request }) => {
  test.setTimeout(SESSION_COUNTS.length * 4 * (WRK_SECONDS + 20) * 1000 + 60_000);
  const modes = [
    { mode: 'cookie', url: `http://${COOKIE_UPSTREAMS[0]}`, store: 'cookie' },
    { mode: 'SQLite', url: BENCH_SQLITE_URL, store: `sqlite:${BENCH_SQLITE_SESSIONS}` },
    { mode: 'Redis', url: `http://${STORE_UPSTREAMS[0]}`, store: `redis://127.0.0.1:${REDIS_PORT}/0` },
    { mode: 'Postgres', url: `http://${POSTGRES_UPSTREAMS[0]}`, store: POSTGRES_SESSION_STORE },
  ];
  const secret = cookieSecret();
  for (const { mode, url, store } of modes) {
    const port = Number(new URL(url).port);
    const memory = [serverMemoryMb(port)];
    for (const count of SESSION_COUNTS) {
      mkdirSync(test.info().outputDir, { recursive: true });
      const file = join(test.info().outputDir, `cookies-${mode}-${count}.txt`);
      const cookies = execFileSync(MINT_SESSIONS, [store, secret, ISSUER, String(count)], {
        maxBuffer: 64 * 1024 * 1024,
      }).toString();
      writeFileSync(file, cookies);
      // A minted session signs its user in on that server, or the numbers mean nothing.
      const first = cookies.slice(0, cookies.indexOf('\n'));
      expect(await (await request.get(`${url}/`, { headers: { cookie: first } })).text()).toContain('Bench User 0');
      wrk('/', [], url, file);
      memory.push(serverMemoryMb(port));
    }
    row(
      `server RSS, ${mode} mode: idle / ${SESSION_COUNTS.map(thousands).join(' / ')} sessions in use (MB)`,
      memory.join(' / '),
    );
  }
});

test('a signed-in page while the session store is down', async ({ request }) => {
  test.setTimeout(4 * (WRK_SECONDS + 20) * 1000);
  const url = `http://${STORE_UPSTREAMS[0]}`;
  const store = `redis://127.0.0.1:${REDIS_PORT}/0`;
  const cookie = execFileSync(MINT_SESSIONS, [store, cookieSecret(), ISSUER, '1']).toString().trim();
  const signedIn = async () => (await (await request.get(`${url}/`, { headers: { cookie } })).text()).includes('Bench User 0');
  expect(await signedIn()).toBe(true);
  const pid = Number(readFileSync(REDIS_PID_FILE, 'utf8').trim());
  const up = wrk('/', [`Cookie: ${cookie}`], url);
  // Hung, the worst case: connections accepted, never answered. Only the requests in flight
  // when it stopped wait (session_store_timeout, 1 s), eight here; the rest skip the store.
  // (Those eight go first and apart: wrk's percentiles would report its 8 slow requests of
  // 30,000 as the p99.)
  process.kill(pid, 'SIGSTOP');
  let hung: WrkResult;
  let inFlightMs: number;
  try {
    const started = Date.now();
    await Promise.all(Array.from({ length: 8 }, () => request.get(`${url}/`, { headers: { cookie } })));
    inFlightMs = Date.now() - started;
    hung = wrk('/', [`Cookie: ${cookie}`], url);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const back = Date.now();
  await expect.poll(signedIn, { timeout: 10_000, intervals: [20] }).toBe(true);
  row(
    `signed-in page on Redis (wrk -t1 -c8, ${WRK_SECONDS} s): store up / hung (SIGSTOP): p50, p99`,
    `${up.p50}, ${up.p99} / ${hung.p50}, ${hung.p99} (${thousands(hung.rps)} req/s, signed out; the 8 requests in flight when it stopped: ${inFlightMs} ms); signed in again ${Date.now() - back} ms after it answers`,
  );
});

// --- the provider far away ---------------------------------------------------------------

/** The far provider's requests by `METHOD /path` (its admin record, asked directly). */
async function farProviderRequests(): Promise<Record<string, number>> {
  const answer = await fetch(`http://127.0.0.1:${BENCH_FAR_OIDC_PORT}/__admin/issued-tokens`);
  return ((await answer.json()) as { requests: Record<string, number> }).requests;
}

/** The delaying proxy's record of the token requests it held (delay-proxy.mjs), from `from` on. */
async function heldTokenRequests(from = 0): Promise<{ held: number; provider: number }[]> {
  const answer = await fetch(`${BENCH_FAR_ISSUER}/__delay/times`);
  const times = (await answer.json()) as { request: string; held: number; provider: number }[];
  return times.slice(from).filter((time) => time.request === 'POST /token');
}

/** What the servers asked the far provider between two of its records, per `per`. */
function serverRequests(before: Record<string, number>, after: Record<string, number>, per: number): string {
  const asked = Object.entries(after)
    .map(([request, count]) => [request, (count - (before[request] ?? 0)) / per] as const)
    .filter(([request, each]) => each > 0 && SERVER_TO_PROVIDER.test(request));
  return asked.map(([request, each]) => `${request} ${each}`).join(', ') || 'none';
}

/** The median of `values` in ms, to a tenth; a bench that saw none says so. */
const medianMs = (values: number[]) => (values.length ? `${median(values).toFixed(1)} ms` : 'not seen');

/** The browser's time from sending a request to `origin` + `path` to its answer starting. */
function serverTimesOf(page: Page, origin: string, paths: string[]): Record<string, number[]> {
  const times: Record<string, number[]> = Object.fromEntries(paths.map((path) => [path, []]));
  page.on('response', (response) => {
    const url = new URL(response.url());
    const timing = response.request().timing();
    if (url.origin === origin && times[url.pathname] && timing.responseStart > 0) {
      times[url.pathname].push(timing.responseStart - timing.requestStart);
    }
  });
  return times;
}

/** BENCH_ROUNDS sign-ins (and logouts) at the app at `origin`, after one that fills the
 * caches (discovery, keys): the visitor's time, the callback's, and what was asked of the
 * far provider per round. */
async function farSignIns(browser: Browser, origin: string) {
  const hello = `Hello, ${ALICE}!`;
  const context = await browser.newContext();
  const page = await context.newPage();
  await stampMoments(context, hello);
  const times = serverTimesOf(page, origin, ['/oauth2callback']);
  await timeLogin(page, `${origin}/`, hello);
  await timeLogout(page);
  times['/oauth2callback'].length = 0;
  const before = await farProviderRequests();
  const heldBefore = (await (await fetch(`${BENCH_FAR_ISSUER}/__delay/times`)).json()).length;
  const logins: LoginTiming[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    logins.push(await timeLogin(page, `${origin}/`, hello));
    await timeLogout(page);
  }
  const asked = serverRequests(before, await farProviderRequests(), ROUNDS);
  const held = await heldTokenRequests(heldBefore);
  await context.close();
  // The callback's time less its token request as the proxy saw it (held, then answered):
  // what this server spent itself, and what the provider did.
  const callbacks = times['/oauth2callback'];
  // The target (#22): one delayed round trip, the token request from sent to answered as the
  // server meets it at a provider far away (the proxy's hold and the provider's own answer),
  // plus at most 5 ms of this server's own.
  const matched = held.length === callbacks.length;
  const ownMs = matched ? callbacks.map((callback, i) => callback - held[i].held - held[i].provider) : [];
  const own = matched
    ? `; of which the token request: held ${medianMs(held.map((t) => t.held))} (the delay), the provider's own ${medianMs(held.map((t) => t.provider))}; this server's own time ${medianMs(ownMs)} (target: one round trip + 5 ms: ${median(ownMs) <= 5 ? 'met' : 'MISSED'})`
    : '';
  return {
    total: median(logins.map((timing) => timing.total)),
    text: `${Math.round(median(logins.map((t) => t.total)))} (${Math.round(median(logins.map((t) => t.toProvider)))} + ${Math.round(median(logins.map((t) => t.back)))})`,
    callback: `${medianMs(callbacks)}${own}`,
    asked,
  };
}

test('sign-in with the provider far away, this app and Streamlit', async ({ browser }) => {
  test.setTimeout(ROUNDS * 2 * 25_000 + 60_000);
  const away = `provider ${BENCH_FAR_DELAY_MS} ms away each way (bench/delay-proxy.mjs)`;
  const app = await farSignIns(browser, BENCH_FAR_URL);
  row(`${away}: click "Log in" to "Hello, NAME!" (median ms)`, app.text);
  row(
    `${away}: server time of the callback (median; one delayed round trip is ${2 * BENCH_FAR_DELAY_MS} ms)`,
    app.callback,
  );
  row(`${away}: requests from the server to the provider per login after the first`, app.asked);
  if (!existsSync(BENCH_STREAMLIT)) {
    row(`${away}: Streamlit 1.67`, 'not installed (scripts/setup.sh bench installs it)');
    return;
  }
  const theirs = await farSignIns(browser, BENCH_FAR_STREAMLIT_URL);
  row(
    `${away}: Streamlit, click "Log in" to "Hello, NAME!" (median ms)`,
    `${theirs.text}; this app is ${(theirs.total / app.total).toFixed(1)}× as fast`,
  );
  row(`${away}: Streamlit, server time of its callback (median)`, theirs.callback);
  row(`${away}: Streamlit, requests from its server to the provider per login and logout`, theirs.asked);
});

test('refresh and logout with the provider far away (tokens client)', async ({ browser }) => {
  test.setTimeout(ROUNDS * 25_000 + 60_000);
  const away = `provider ${BENCH_FAR_DELAY_MS} ms away`;
  const hello = `Hello, ${ALICE}!`;
  const context = await browser.newContext();
  const page = await context.newPage();
  await stampMoments(context, hello);
  const times = serverTimesOf(page, BENCH_FAR_TOKENS_URL, ['/api/auth/logout']);
  /** The whole /tokens page (tokens(), then the page's own userinfo()), streamed answer and all. */
  const tokensPage = async () => {
    const started = performance.now();
    const answer = await context.request.get(`${BENCH_FAR_TOKENS_URL}/tokens`);
    expect(await answer.text()).toContain('Your tokens');
    return performance.now() - started;
  };

  // The first round fills the caches; its tokens are then refreshed once.
  await timeLogin(page, `${BENCH_FAR_TOKENS_URL}/`, hello);
  const fresh = await tokensPage();
  // secrets.tokens.e2e.toml's margin on the far provider's 14-second tokens: due after 7 s.
  await page.waitForTimeout(8_000);
  const before = await farProviderRequests();
  const refreshing = await tokensPage();
  const refreshAsked = serverRequests(before, await farProviderRequests(), 1);
  row(
    `${away}: the /tokens page without / with a refresh (tokens() then userinfo(), ms)`,
    `${Math.round(fresh)} / ${Math.round(refreshing)}; asked of the provider with the refresh: ${refreshAsked}`,
  );
  await timeLogout(page);
  times['/api/auth/logout'].length = 0;

  const logouts: number[] = [];
  const beforeLogouts: Record<string, number>[] = [];
  const afterLogouts: Record<string, number>[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await timeLogin(page, `${BENCH_FAR_TOKENS_URL}/`, hello);
    beforeLogouts.push(await farProviderRequests());
    logouts.push(await timeLogout(page));
    afterLogouts.push(await farProviderRequests());
  }
  await context.close();
  const perLogout = afterLogouts.map((after, i) => serverRequests(beforeLogouts[i], after, 1));
  row(
    `${away}: logout with revocation and at the provider: server time of logout (median) / click "Log out" to "Log in" (median)`,
    `${medianMs(times['/api/auth/logout'])} / ${Math.round(median(logouts))} ms; asked of the provider per logout: ${perLogout[perLogout.length - 1]} (after the answer)`,
  );
});
