// What a browser gets for the page's assets (server/src/assets.rs). A release build (`make
// release`, and `make release-e2e` here) has hashed, precompressed files, cached for good; a
// debug build the plain files, revalidated on every use.
import { type APIRequestContext, type BrowserContext, type Page, expect, test } from '@playwright/test';
import { hydrated } from './helpers/app';

const RELEASE = process.env.SERVER_PROFILE === 'release';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The wasm, JavaScript and stylesheet the home page's HTML names. */
async function assetPaths(request: APIRequestContext) {
  const html = await (await request.get('/')).text();
  const find = (pattern: RegExp) => {
    const path = pattern.exec(html)?.[1];
    expect(path, `${pattern} in the page`).toBeTruthy();
    return path as string;
  };
  return {
    wasm: find(/href="(\/pkg\/[^"]+\.wasm)"/),
    js: find(/href="(\/pkg\/[^"]+\.js)"/),
    css: find(/<link[^>]*rel="stylesheet"[^>]*href="(\/pkg\/[^"]+\.css)"/),
  };
}

test('the wasm comes in the encoding the browser accepts', async ({ request }) => {
  const { wasm } = await assetPaths(request);
  const plain = await request.get(wasm, { headers: { 'accept-encoding': 'identity' } });
  expect(plain.status()).toBe(200);
  expect(plain.headers()['content-encoding']).toBeUndefined();
  expect(plain.headers()['content-type']).toBe('application/wasm');
  expect(plain.headers()['vary']).toMatch(/accept-encoding/i);
  const size = (await plain.body()).length;

  for (const encoding of ['br', 'gzip']) {
    const response = await request.get(wasm, { headers: { 'accept-encoding': encoding } });
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('application/wasm');
    if (RELEASE) {
      expect(response.headers()['content-encoding']).toBe(encoding);
      // Less than half the bytes on the wire.
      expect(Number(response.headers()['content-length'])).toBeLessThan(size / 2);
    }
    // Whatever the encoding, the same module once decoded.
    expect((await response.body()).length).toBe(size);
  }
  if (RELEASE) {
    const both = await request.get(wasm, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(both.headers()['content-encoding']).toBe('br');
  }
});

test('hashed assets are cached for good, others revalidated', async ({ request }) => {
  const paths = await assetPaths(request);
  for (const path of Object.values(paths)) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
    if (RELEASE) {
      expect(path).toMatch(/^\/pkg\/leptos-auth\.[A-Za-z0-9_-]{22}\.(wasm|js|css)$/);
      expect(response.headers()['cache-control'], path).toBe(IMMUTABLE);
    } else {
      expect(path).toMatch(/^\/pkg\/leptos-auth\.(wasm|js|css)$/);
      expect(response.headers()['cache-control'], path).toBe('no-cache');
    }
  }
  const missing = await request.get('/pkg/leptos-auth.AAAAAAAAAAAAAAAAAAAAAA.wasm');
  expect(missing.status()).toBe(404);
  expect(missing.headers()['cache-control']).not.toContain('immutable');
});

/** Every response of one visit to `path`, with the bytes that came over the network. */
async function visit(context: BrowserContext, page: Page, path: string) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const fetched: { url: string; bytes: number }[] = [];
  cdp.on('Network.responseReceived', (event) => urls.set(event.requestId, event.response.url));
  cdp.on('Network.loadingFinished', (event) => {
    fetched.push({ url: urls.get(event.requestId) ?? '?', bytes: event.encodedDataLength });
  });
  await page.goto(path);
  await hydrated(page);
  await cdp.detach();
  return fetched;
}

test('a repeat visit downloads only the page', async ({ context, page }) => {
  test.skip(!RELEASE, 'debug builds revalidate every asset (no-cache)');
  const first = await visit(context, page, '/');
  expect(first.map(({ url }) => new URL(url).pathname)).toEqual(
    expect.arrayContaining(['/', expect.stringMatching(/\.wasm$/), expect.stringMatching(/\.js$/)]),
  );
  const again = await visit(context, page, '/');
  const overTheNetwork = again.filter(({ bytes }) => bytes > 0).map(({ url }) => new URL(url).pathname);
  expect(overTheNetwork).toEqual(['/']);
});
