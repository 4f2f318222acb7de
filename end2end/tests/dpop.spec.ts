// DPoP-bound tokens (RFC 9449, `dpop = true`; enterprise-provider issue, item 6) against the
// real oidc-provider: the tokens server's [auth.dpop-bound] provider (secrets.tokens.e2e.toml) on the
// test provider's leptos-dpop client, which refuses a token request without a proof and wants
// its nonce in them (oidc/provider.mjs). The sign-in, the tokens page's userinfo call (server
// code with tokens()) and the refresh after the short-lived access token expires must all be
// accepted; the provider's record must show the access tokens bound to one key; and the token
// alone, without the session's key, must be refused by the provider's userinfo endpoint.
import { expect, test, type Page } from '@playwright/test';
import { RELEASE, TOKENS_URL } from '../playwright.config';
import { greeting, hydrated } from './helpers/app';
import { ISSUER, providerRecord, signInAtProvider, tokenAtProvider, type IssuedToken } from './helpers/idp';

test.skip(RELEASE, 'the debug run starts the tokens server (app-tokens)');
test.use({ baseURL: TOKENS_URL });

const CLIENT = 'leptos-dpop';

/** From the home page, signs alice in with the `[auth.dpop-bound]` provider (as client-auth.spec.ts). */
async function logInWithDpop(page: Page): Promise<void> {
  await page.goto('/');
  await hydrated(page);
  await page.locator('form.auth-login').first().evaluate((form: HTMLFormElement) => {
    const field = form.querySelector<HTMLInputElement>('input[name="provider"]');
    if (field) field.value = 'dpop-bound';
    form.submit();
  });
  await signInAtProvider(page, 'alice');
}

async function accessTokensSince(since: number): Promise<IssuedToken[]> {
  return (await providerRecord()).tokens.filter(
    (t) => t.seq >= since && t.clientId === CLIENT && t.kind === 'access',
  );
}

test('the sign-in, userinfo and a refresh are DPoP-bound to one key; the token alone is refused', async ({ page }) => {
  const before = await providerRecord();
  const mark = before.tokens.length;
  await logInWithDpop(page);
  await page.waitForURL(`${TOKENS_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');

  const [first] = await accessTokensSince(mark);
  expect(first?.tokenType, 'the code exchange issued a DPoP-bound token').toBe('DPoP');
  const firstAtProvider = await tokenAtProvider(first?.value ?? '');
  expect(firstAtProvider.access).toBe(true);
  expect(firstAtProvider.jkt, 'bound to a key (cnf.jkt)').toMatch(/^[A-Za-z0-9_-]{43}$/);

  // Stolen from the store without the key: refused as a bearer token, and as a DPoP token
  // without a proof. (The provider's userinfo endpoint is the resource server here.)
  const asBearer = await fetch(`${ISSUER}/me`, { headers: { authorization: `Bearer ${first?.value}` } });
  expect(asBearer.ok, `userinfo answered ${asBearer.status} to the token as a bearer token`).toBe(false);
  const unproved = await fetch(`${ISSUER}/me`, { headers: { authorization: `DPoP ${first?.value}` } });
  expect(unproved.ok, `userinfo answered ${unproved.status} to the token without a proof`).toBe(false);

  // Server code (the tokens page) asks userinfo with the token and its proof: accepted. The
  // access token lives CLIENT_AUTH_ACCESS_TTL (4 s): once it has expired, the page refreshes
  // it first, with a proof from the same key.
  const wait = (first?.expiresAt ?? 0) + 100 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  const userinfoCalls = before.requests['GET /me'] ?? 0;
  await page.goto('/tokens');
  await expect(page.locator('#token-error')).toHaveCount(0);
  await expect(page.locator('#userinfo')).toContainText('Alice Example');
  const after = await providerRecord();
  expect(after.requests['GET /me'] ?? 0).toBeGreaterThan(userinfoCalls);
  expect(after.refreshGrants[CLIENT] ?? 0).toBeGreaterThan(before.refreshGrants[CLIENT] ?? 0);

  const refreshed = (await accessTokensSince(mark)).filter((t) => t.grantType === 'refresh_token').at(-1);
  expect(refreshed?.tokenType).toBe('DPoP');
  const refreshedAtProvider = await tokenAtProvider(refreshed?.value ?? '');
  expect(refreshedAtProvider.jkt, "the session's one key").toBe(firstAtProvider.jkt);
});

test('each session gets its own key', async ({ browser }) => {
  const jkts: (string | null)[] = [];
  for (let i = 0; i < 2; i += 1) {
    const context = await browser.newContext({ baseURL: TOKENS_URL });
    const page = await context.newPage();
    const mark = (await providerRecord()).tokens.length;
    await logInWithDpop(page);
    await page.waitForURL(`${TOKENS_URL}/`);
    const [access] = await accessTokensSince(mark);
    jkts.push((await tokenAtProvider(access?.value ?? '')).jkt);
    await context.close();
  }
  expect(jkts[0]).toBeTruthy();
  expect(jkts[1]).toBeTruthy();
  expect(jkts[0]).not.toBe(jkts[1]);
});
