// Tokens kept on the server (issue #10): `expose_tokens`, refresh, logout at the provider and
// back-channel logout, through a server of their own (app-tokens in playwright.config.ts) on the
// test provider's second client, leptos-tokens (oidc/provider.mjs: refresh tokens rotated on
// every use, access tokens living TOKENS_ACCESS_TTL seconds, back-channel logout with sid). Its
// configuration is secrets.tokens.e2e.toml: token_refresh_margin = "10s", logout_at_provider.
// The provider's admin endpoints say which tokens it issued, how many refresh grants it
// answered, what it still holds and which back-channel logouts it sent.
import {
  expect,
  request as playwrightRequest,
  test,
  type BrowserContext,
  type Page,
  type Request,
  type Response,
} from '@playwright/test';
import { RELEASE, TOKENS_ACCESS_TTL, TOKENS_URL } from '../playwright.config';
import { greeting, hydrated, logIn } from './helpers/app';
import {
  ISSUER,
  PROVIDER_SESSION_COOKIE,
  providerRecord,
  providerSessionExists,
  tokenAtProvider,
  type IssuedToken,
} from './helpers/idp';

const CLIENT = 'leptos-tokens';
/** secrets.tokens.e2e.toml's token_refresh_margin, in seconds. */
const MARGIN = 10;
const IDENTITY = 'auth_user';

test.skip(RELEASE, 'the debug run starts the tokens server (app-tokens)');
test.use({ baseURL: TOKENS_URL });

/** The provider's tokens for this client issued after `since` (a `seq`), in order. */
async function issuedSince(since: number): Promise<IssuedToken[]> {
  return (await providerRecord()).tokens.filter((t) => t.seq >= since && t.clientId === CLIENT);
}

/** Where the provider's list stands now: pass it to issuedSince later. */
async function issuedMark(): Promise<number> {
  return (await providerRecord()).tokens.length;
}

const refreshGrants = async () => (await providerRecord()).refreshGrants[CLIENT] ?? 0;

/** Signs alice in from the home page; back on the home page, hydrated. */
async function signIn(page: Page): Promise<void> {
  await page.goto('/');
  await hydrated(page);
  await logIn(page, 'alice');
  await expect(page).toHaveURL(`${TOKENS_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');
  await hydrated(page);
}

/** The seconds /tokens says the access token has left; it must also show the userinfo. */
async function tokensPage(page: Page): Promise<number> {
  await expect(page.locator('#token-error')).toHaveCount(0);
  await expect(page.locator('#userinfo')).toContainText('Alice Example');
  const expiry = (await page.locator('#token-expiry').textContent()) ?? '';
  const seconds = /The access token expires in (\d+) s\./.exec(expiry);
  expect(seconds, `an expiry in seconds: ${expiry}`).not.toBeNull();
  return Number(seconds?.[1]);
}

/** Waits until the latest access token in `issued` expires within the refresh margin. */
async function waitForMargin(page: Page, issued: IssuedToken[]): Promise<void> {
  const access = issued.filter((t) => t.kind === 'access').at(-1);
  expect(access?.expiresAt, 'an access token with an expiry').toBeDefined();
  // A second inside the margin, for the clocks' rounding (the provider's and the server's).
  const wait = (access?.expiresAt ?? 0) - MARGIN * 1000 + 1000 - Date.now();
  // The only fixed wait of this file: what the token's lifetime needs.
  if (wait > 0) await page.waitForTimeout(wait);
}

test('the tokens page shows the expiry and the userinfo asked with the access token', async ({ page }) => {
  const mark = await issuedMark();
  await signIn(page);
  const issued = await issuedSince(mark);
  expect(issued.map((t) => t.kind).sort()).toEqual(['access', 'id', 'refresh']);

  const userinfoCalls = async () => (await providerRecord()).requests['GET /me'] ?? 0;
  const before = await userinfoCalls();
  // Loaded by the server (server-side rendering)...
  await page.goto('/tokens');
  const seconds = await tokensPage(page);
  expect(seconds).toBeGreaterThan(MARGIN);
  expect(seconds).toBeLessThanOrEqual(TOKENS_ACCESS_TTL);
  await expect(page.locator('#token-scopes')).toContainText('openid');
  await expect(page.locator('#token-scopes')).toContainText('offline_access');
  expect(await userinfoCalls()).toBe(before + 1);

  // ...and through the page's server function, after a client-side navigation.
  await hydrated(page);
  await page.getByRole('link', { name: 'Home' }).click();
  await expect(greeting(page)).toBeVisible();
  await page.getByRole('link', { name: 'Your tokens' }).click();
  await expect(page).toHaveURL(`${TOKENS_URL}/tokens`);
  await tokensPage(page);
  expect(await userinfoCalls()).toBe(before + 2);
  // Nothing was refreshed: the token was fresh.
  expect((await issuedSince(mark)).length).toBe(3);
});

// Claims kept fresh (#20.4): a refresh's new ID token replaces the claims the session holds.
test('a group added at the provider shows on the next page after a refresh', async ({ page }) => {
  const mark = await issuedMark();
  await page.goto('/');
  await hydrated(page);
  await logIn(page, 'grace');
  await expect(greeting(page)).toHaveText('Hello, Grace!');
  const claims = page.locator('#claims');
  await page.goto('/claims');
  await expect(claims.getByRole('row', { name: /^email / })).toContainText('grace@example.com');
  await expect(claims.getByRole('row', { name: /^groups / })).toHaveCount(0);

  const given = await fetch(`${ISSUER}/__admin/groups?login=grace&groups=admins`, { method: 'POST' });
  expect(given.ok).toBe(true);
  // Until a refresh, the session keeps the claims it signed in with.
  await page.reload();
  await expect(claims.getByRole('row', { name: /^groups / })).toHaveCount(0);

  await waitForMargin(page, await issuedSince(mark));
  const refreshesBefore = await refreshGrants();
  await page.goto('/tokens');
  await expect(page.locator('#token-error')).toHaveCount(0);
  expect(await refreshGrants()).toBe(refreshesBefore + 1);
  await page.goto('/claims');
  await expect(claims.getByRole('row', { name: /^groups / })).toContainText('admins');
  await expect(claims.getByRole('row', { name: /^sub / })).toContainText('grace');
});

test('two requests at once within the margin refresh once', async ({ context, page }) => {
  test.setTimeout(60_000);
  const mark = await issuedMark();
  await signIn(page);
  const issued = await issuedSince(mark);
  const refreshesBefore = await refreshGrants();

  await waitForMargin(page, issued);
  const [first, second] = [page, await context.newPage()];
  await Promise.all([first.goto('/tokens'), second.goto('/tokens')]);
  const [left1, left2] = [await tokensPage(first), await tokensPage(second)];

  // Exactly one refresh grant: the second request waited for the first's.
  expect(await refreshGrants()).toBe(refreshesBefore + 1);
  const refreshed = (await issuedSince(mark)).filter((t) => t.grantType === 'refresh_token');
  expect(refreshed.map((t) => t.kind).sort()).toEqual(['access', 'id', 'refresh']);
  // Both pages got the fresh access token (the old one had at most MARGIN seconds left).
  for (const left of [left1, left2]) {
    expect(left).toBeGreaterThan(MARGIN);
    expect(left).toBeLessThanOrEqual(TOKENS_ACCESS_TTL);
  }
  // Rotated: the refresh token used is spent, the new one is live.
  const [oldRefresh, newRefresh] = [issued, refreshed].map((list) => list.find((t) => t.kind === 'refresh')?.value ?? '');
  expect(await tokenAtProvider(oldRefresh)).toMatchObject({ consumed: true });
  expect(await tokenAtProvider(newRefresh)).toMatchObject({ refresh: true, consumed: false });

  // And again later, with nothing to refresh: no further grant.
  await first.reload();
  await tokensPage(first);
  expect(await refreshGrants()).toBe(refreshesBefore + 1);
});

/** Everything the browser was sent or sent itself, as text to search for tokens. */
interface Recorded {
  what: string;
  text: string;
}

/**
 * Records every response (status, URL, headers, body) and request the context sees. The
 * answers of server functions pass through a route too: the browser may navigate on (the
 * logout's answer names the next page) before a response event's body can be read.
 */
async function record(context: BrowserContext): Promise<{ recorded: Recorded[]; settle: () => Promise<string[]> }> {
  const recorded: Recorded[] = [];
  const pending: Promise<void>[] = [];
  const missing: string[] = [];
  let routed = 0;
  await context.route(`${TOKENS_URL}/api/**`, async (route) => {
    const response = await route.fetch({ maxRedirects: 0 });
    const body = await response.body();
    const headers = response.headersArray().map((h) => `${h.name}: ${h.value}`).join('\n');
    const what = `server function ${response.status()} ${route.request().method()} ${response.url()}`;
    recorded.push({ what, text: `${response.url()}\n${headers}\n${body.toString('latin1')}` });
    routed += 1;
    await route.fulfill({ response, body });
  });
  context.on('request', (request: Request) => {
    pending.push(
      (async () => {
        const headers = (await request.headersArray()).map((h) => `${h.name}: ${h.value}`).join('\n');
        recorded.push({
          what: `request ${request.method()} ${request.url()}`,
          text: `${request.url()}\n${headers}\n${request.postData() ?? ''}`,
        });
      })(),
    );
  });
  context.on('response', (response: Response) => {
    const what = `response ${response.status()} ${response.request().method()} ${response.url()}`;
    pending.push(
      (async () => {
        // Set-Cookie included: headersArray() keeps every one.
        const headers = (await response.headersArray()).map((h) => `${h.name}: ${h.value}`).join('\n');
        let body = '';
        const redirect = response.status() >= 300 && response.status() < 400;
        if (!redirect) {
          try {
            body = (await response.body()).toString('latin1');
          } catch (error) {
            // A page that navigates on at once (the provider's auto-submitted logout form) may
            // be gone before its body is read; the app's own pages and answers must not be.
            const url = new URL(response.url());
            if (url.origin === TOKENS_URL && !url.pathname.startsWith('/api/')) missing.push(`${what}: ${error}`);
          }
        }
        recorded.push({ what, text: `${response.url()}\n${headers}\n${body}` });
      })(),
    );
  });
  return {
    recorded,
    settle: async () => {
      await Promise.all(pending);
      if (routed === 0) missing.push('no server function answer was recorded');
      return missing;
    },
  };
}

/**
 * The ID token may reach the browser in one place only: as the id_token_hint of the logout
 * request to the provider's end_session_endpoint (RP-initiated logout), which the app's logout
 * answer names. Returns the text without those hints, and the hints.
 */
function withoutHints(text: string): { text: string; hints: string[] } {
  const hints: string[] = [];
  const end = `${ISSUER}/session/end?`.replace(/[.?/]/g, (c) => `\\${c}`);
  const pattern = new RegExp(`(${end}[^"\\s]*?)id_token_hint=([A-Za-z0-9._~%-]+)`, 'g');
  return {
    text: text.replace(pattern, (_all, prefix: string, hint: string) => {
      hints.push(decodeURIComponent(hint));
      return `${prefix}id_token_hint=<hint>`;
    }),
    hints,
  };
}

test('no token reaches the browser, on any page or server function', async ({ context, page }) => {
  test.setTimeout(90_000);
  const mark = await issuedMark();
  const { recorded, settle } = await record(context);
  const storage: string[] = [];
  const pageStorage = async () => {
    storage.push(
      await page.evaluate(() =>
        [document.cookie, JSON.stringify({ ...localStorage }), JSON.stringify({ ...sessionStorage })].join('\n'),
      ),
    );
  };
  const serverFunctions = new Set<string>();
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === TOKENS_URL && request.method() === 'POST' && url.pathname.startsWith('/api/')) {
      serverFunctions.add(url.pathname);
    }
  });

  await signIn(page);
  const visitAll = async () => {
    for (const path of ['/', '/claims', '/private', '/tokens', '/login']) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBeLessThan(400);
      await hydrated(page);
      await pageStorage();
    }
    await expect(page.locator('body')).not.toContainText('Sign-in failed');
    // The home page's server function...
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('button', { name: 'Ask the server who I am' }).click();
    await expect(page.locator('#whoami-answer')).toHaveText('The server knows you as Alice Example.');
    // ...and the tokens page's, after a client-side navigation.
    await page.getByRole('link', { name: 'Your tokens' }).click();
    await tokensPage(page);
    await pageStorage();
  };
  await visitAll();
  // Again once the access token is within the margin: refreshed tokens, re-sealed sessions.
  const refreshesBefore = await refreshGrants();
  await waitForMargin(page, await issuedSince(mark));
  await visitAll();
  expect(await refreshGrants()).toBeGreaterThan(refreshesBefore);

  // Logout (at the provider too), back on the home page signed out.
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.waitForURL(`${TOKENS_URL}/`);
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await pageStorage();

  // The server functions the pages offer were all called: whoami, token_status, logout.
  expect(serverFunctions.size, [...serverFunctions].join(' ')).toBeGreaterThanOrEqual(3);
  expect([...serverFunctions]).toContain('/api/auth/logout');
  expect(await settle(), 'bodies of the app that could not be read').toEqual([]);

  const issued = await issuedSince(mark);
  // Sign-in and at least one refresh: ID, access and refresh tokens of both.
  for (const grantType of ['authorization_code', 'refresh_token']) {
    expect(issued.filter((t) => t.grantType === grantType).map((t) => t.kind).sort()).toEqual(
      expect.arrayContaining(['access', 'id', 'refresh']),
    );
  }
  const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('\n');
  const hints: string[] = [];
  const places = [
    ...recorded.map(({ what, text }) => {
      const stripped = withoutHints(text);
      hints.push(...stripped.hints);
      return { what, text: stripped.text };
    }),
    { what: "the browser's cookies", text: cookies },
    ...storage.map((text) => ({ what: 'document.cookie, localStorage, sessionStorage', text })),
  ];
  expect(recorded.length).toBeGreaterThan(20);
  for (const token of issued) {
    const found = places.filter(({ text }) => text.includes(token.value)).map(({ what }) => what);
    expect(found, `the ${token.kind} token of the ${token.grantType} grant`).toEqual([]);
  }
  // The one allowed appearance: the logout's hint is the latest ID token.
  const idTokens = issued.filter((t) => t.kind === 'id').map((t) => t.value);
  expect(hints.length).toBeGreaterThan(0);
  for (const hint of hints) expect(hint).toBe(idTokens.at(-1));
});

test('logout ends the session at the provider and revokes the refresh token', async ({ context, page }) => {
  const mark = await issuedMark();
  await signIn(page);
  await page.goto('/tokens');
  await tokensPage(page);
  const refresh = (await issuedSince(mark)).find((t) => t.kind === 'refresh')?.value ?? '';
  expect(await tokenAtProvider(refresh)).toMatchObject({ refresh: true });
  const opSession = (await context.cookies(ISSUER)).find((c) => c.name === PROVIDER_SESSION_COOKIE)?.value ?? '';
  expect(await providerSessionExists(opSession)).toBe(true);
  const revocationsBefore = (await providerRecord()).revocations;

  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  const loads: Request[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest()) loads.push(request);
  });
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  // Exactly the home page: the `?state=…` the provider came back with is cleaned away.
  await page.waitForURL(`${TOKENS_URL}/`, { waitUntil: 'load' });
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(greeting(page)).toHaveCount(0);

  // By way of the provider's end-session page, with what RP-initiated logout asks for.
  const endSession = navigations.map((url) => new URL(url)).find((url) => url.href.startsWith(`${ISSUER}/session/end`));
  expect(endSession, navigations.join('\n')).toBeDefined();
  const params = endSession?.searchParams;
  expect(params?.get('client_id')).toBe(CLIENT);
  expect(params?.get('post_logout_redirect_uri')).toBe(`${TOKENS_URL}/`);
  expect(params?.get('id_token_hint')).toBe((await issuedSince(mark)).filter((t) => t.kind === 'id').at(-1)?.value);
  const state = params?.get('state');
  expect(state).toBeTruthy();
  // The provider sent the browser back with that state, and the app cleaned the address.
  const back = loads.find((request) => {
    const url = new URL(request.url());
    return url.origin === TOKENS_URL && url.pathname === '/' && url.searchParams.get('state') === state;
  });
  expect(back, loads.map((request) => request.url()).join('\n')).toBeDefined();
  expect(back?.redirectedTo()?.url()).toBe(`${TOKENS_URL}/`);
  expect(navigations.at(-1)).toBe(`${TOKENS_URL}/`);

  // The refresh token is revoked (the provider keeps offline_access grants past its own
  // logout: only the app's revocation request ends it), and the provider session is over.
  expect((await providerRecord()).revocations).toBeGreaterThan(revocationsBefore);
  expect(await tokenAtProvider(refresh)).toMatchObject({ refresh: false, access: false });
  expect(await providerSessionExists(opSession)).toBe(false);
  expect((await context.cookies(ISSUER)).map((c) => c.name)).not.toContain(PROVIDER_SESSION_COOKIE);
  await page.reload();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

/** Loads the home page with nothing but this identity cookie: a copied cookie, replayed. */
async function replaySignsIn(cookie: string): Promise<boolean> {
  const api = await playwrightRequest.newContext();
  try {
    const response = await api.get(`${TOKENS_URL}/`, { headers: { cookie: `${IDENTITY}=${cookie}` } });
    expect(response.status()).toBe(200);
    const text = await response.text();
    const signedIn = text.includes('Alice Example');
    expect(signedIn, 'signed in or signed out, never an error').not.toBe(text.includes('You are not signed in.'));
    return signedIn;
  } finally {
    await api.dispose();
  }
}

test('a back-channel logout from the provider ends the session', async ({ context, page }) => {
  await signIn(page);
  const cookie = (await context.cookies(TOKENS_URL)).find((c) => c.name === IDENTITY)?.value ?? '';
  expect(cookie).not.toBe('');
  expect(await replaySignsIn(cookie), 'the copy signs in before').toBe(true);
  const sent = (await providerRecord()).backchannel.length;

  // Logging out at the provider itself, not through the app: it posts a logout_token to the
  // app's back-channel logout URI before it answers.
  await page.goto(`${ISSUER}/session/end`);
  await expect(page.getByRole('heading', { name: 'Signed out' })).toBeVisible();
  const backchannel = (await providerRecord()).backchannel.slice(sent);
  expect(backchannel).toEqual([expect.objectContaining({ clientId: CLIENT, accountId: 'alice', ok: true })]);
  expect(backchannel[0].sid).toBeTruthy();

  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(greeting(page)).toHaveCount(0);
  expect(await replaySignsIn(cookie), 'the copy after the back-channel logout').toBe(false);
});
