// `make bench`: what a visitor and the server pay, measured from outside on a release build
// (`make release`: hashed, precompressed assets) against the test provider on loopback.
// Prints one table and asserts nothing about speed:
// - throughput of the home page signed out and signed in, and of a static file with and
//   without keep-alive (wrk, loopback, WRK_SECONDS each);
// - the identity cookie's server CPU (auth/benches/identity.rs, which `make bench` runs
//   first into ../target/bench/identity.txt);
// - sign-in and sign-out in headless chromium (median of BENCH_ROUNDS), memory, cookie size;
// - the wasm over the wire raw, gzip and brotli; the bytes of a first and a repeat visit.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type APIRequestContext, type BrowserContext, type Page, expect, test } from '@playwright/test';
import { APP_PORT, APP_URL } from '../playwright.config';
import { greeting, hydrated } from '../tests/helpers/app';
import { signInAtProvider } from '../tests/helpers/idp';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WRK_SECONDS = Number(process.env.WRK_SECONDS ?? 5);
const IDENTITY_RESULT = '../target/bench/identity.txt';

const rows: [string, string | number][] = [];
const row = (what: string, value: string | number) => rows.push([what, value]);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

/** Resident memory of the configured app server, in MB (Linux). */
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

/** wrk against `path` on loopback: requests per second and the 99th percentile latency. */
function wrk(path: string, headers: string[] = []) {
  const args = ['-t1', '-c8', `-d${WRK_SECONDS}s`, '--latency'];
  for (const header of headers) args.push('-H', header);
  const out = execFileSync('wrk', [...args, `${APP_URL}${path}`]).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p99 = /\s99%\s+([\d.]+\w+)/.exec(out)?.[1] ?? '?';
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  if (errors) throw new Error(`wrk ${path}: ${errors} error responses\n${out}`);
  return { rps, p99, text: `${thousands(rps)} req/s (p99 ${p99})` };
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

/** Bytes over the network (headers included) for one visit to `/`, per path. */
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
  await cdp.detach();
  return { total, paths };
}

test.afterAll(() => {
  const width = Math.max(...rows.map(([what]) => what.length));
  const lines = rows.map(([what, value]) => `| ${what.padEnd(width)} | ${value} |`);
  console.log(`\n| ${'measure'.padEnd(width)} | value |\n| ${'-'.repeat(width)} | --- |\n${lines.join('\n')}\n`);
});

test('what a visitor and the server pay', async ({ browser, page, context, request }) => {
  test.setTimeout(ROUNDS * 15_000 + 8 * WRK_SECONDS * 1000 + 60_000);
  const idleMb = serverMemoryMb(APP_PORT);

  // The wasm as served for each Accept-Encoding.
  const { wasm, css } = await assets(request);
  expect(wasm).not.toBe('');
  const wire = async (encoding: string) =>
    Number((await request.get(wasm, { headers: { 'accept-encoding': encoding } })).headers()['content-length']);
  row('release wasm: raw / gzip / brotli', `${kb(await wire('identity'))} / ${kb(await wire('gzip'))} / ${kb(await wire('br'))}`);

  // A first and a repeat visit to the home page in a fresh browser (cache empty).
  {
    const fresh = await browser.newContext();
    const tab = await fresh.newPage();
    const first = await visit(fresh, tab);
    const again = await visit(fresh, tab);
    row('first visit to / over the wire (all requests)', kb(first.total));
    row('repeat visit to / over the wire', `${kb(again.total)} (${again.paths.join(', ') || 'nothing'})`);
    await fresh.close();
  }

  // Sign-in and sign-out in the browser.
  const logins: number[] = [];
  const logouts: number[] = [];
  let cookie = '';
  for (let round = 0; round < ROUNDS; round++) {
    await page.goto('/');
    await hydrated(page);
    const started = performance.now();
    await page.getByRole('button', { name: 'Log in' }).click();
    await signInAtProvider(page, 'alice');
    await expect(greeting(page)).toHaveText('Hello, Alice Example!');
    logins.push(performance.now() - started);

    const identity = (await context.cookies()).find((c) => c.name === 'auth_user');
    cookie = identity ? `${identity.name}=${identity.value}` : '';

    await hydrated(page);
    const leaving = performance.now();
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    logouts.push(performance.now() - leaving);
  }
  row('click "Log in" to "Hello, NAME!" (median ms, includes the provider form)', Math.round(median(logins)));
  row('click "Log out" to "Log in" (median ms)', Math.round(median(logouts)));
  row(`server memory idle / after ${ROUNDS} logins (MB)`, `${idleMb} / ${serverMemoryMb(APP_PORT)}`);
  row('identity cookie, name + value (bytes)', cookie.length);

  // Throughput from outside. The cookie is still valid: logout only made the browser forget it.
  expect(cookie).not.toBe('');
  const signedIn = await request.get('/', { headers: { cookie } });
  expect(await signedIn.text()).toContain('Alice Example');
  const out = wrk('/');
  const inside = wrk('/', [`Cookie: ${cookie}`]);
  row(`home page signed out (wrk -t1 -c8, ${WRK_SECONDS} s)`, out.text);
  row('home page signed in', `${inside.text}; ${(inside.rps / out.rps).toFixed(2)} of signed out`);
  const alive = wrk(css);
  const closed = wrk(css, ['Connection: close']);
  row(`static file ${css.replace(/^.*\//, '')} keep-alive`, alive.text);
  row('same, Connection: close', `${closed.text}; keep-alive is ${(alive.rps / closed.rps).toFixed(2)}×`);

  row(
    'identity cookie to User, server CPU (median; cargo bench -p auth --bench identity)',
    existsSync(IDENTITY_RESULT) ? readFileSync(IDENTITY_RESULT).toString().trim() : 'not run',
  );
});
