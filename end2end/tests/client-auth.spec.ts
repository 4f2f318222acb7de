// Client authentication as each provider wants it (issue #21, item 4): one named provider per
// method on the tokens server (secrets.tokens.e2e.toml: post, jwt, jwt-ec, public, wrong-key),
// each on a client of the test provider registered with that method only (oidc/provider.mjs).
// A sign-in exchanges the code, the tokens page refreshes the short-lived access token first,
// and the logout revokes the refresh token: three requests the provider refuses unless they
// authenticate its way.
import { expect, test, type Page } from '@playwright/test';
import { RELEASE, TOKENS_URL } from '../playwright.config';
import { greeting, hydrated } from './helpers/app';
import { providerRecord, signInAtProvider, tokenAtProvider, type IssuedToken } from './helpers/idp';

test.skip(RELEASE, 'the debug run starts the tokens server (app-tokens)');
test.use({ baseURL: TOKENS_URL });

/**
 * From the home page, signs alice in with the `[auth.NAME]` provider `provider`; returns once
 * the browser is back at the callback (which answers the error page, or sends it on).
 */
async function logInWith(page: Page, provider: string): Promise<void> {
  await page.goto('/');
  await hydrated(page);
  // The page's plain <LoginButton/> (the first login form) posts the unnamed provider; the same form names another, as
  // <LoginButton provider="NAME"/> would.
  await page.locator('form.auth-login').first().evaluate((form: HTMLFormElement, name: string) => {
    const field = form.querySelector<HTMLInputElement>('input[name="provider"]');
    if (field) field.value = name;
    form.submit();
  }, provider);
  await signInAtProvider(page, 'alice');
}

/** The provider's tokens for `client` issued after `since` (a `seq`), in order. */
async function issuedSince(client: string, since: number): Promise<IssuedToken[]> {
  return (await providerRecord()).tokens.filter((t) => t.seq >= since && t.clientId === client);
}

for (const { provider, client, method } of [
  { provider: 'post', client: 'leptos-post', method: 'client_secret_post' },
  { provider: 'jwt', client: 'leptos-jwt', method: 'private_key_jwt' },
  { provider: 'public', client: 'leptos-public', method: 'none' },
]) {
  test(`${method}: the code exchange, a refresh and the revocation are accepted`, async ({ page }) => {
    const before = await providerRecord();
    const mark = before.tokens.length;
    await logInWith(page, provider);
    await page.waitForURL(`${TOKENS_URL}/`);
    await expect(greeting(page)).toHaveText('Hello, Alice Example!');
    const access = (await issuedSince(client, mark)).find((t) => t.kind === 'access');
    expect(access?.expiresAt, 'the code exchange gave an access token').toBeDefined();

    // The access token lives oidc/provider.mjs's CLIENT_AUTH_ACCESS_TTL (4 s): once it has
    // expired, the tokens page refreshes it first. (Waiting for the expiry, not the margin,
    // leaves nothing to the rounding of the two clocks.)
    const wait = (access?.expiresAt ?? 0) + 100 - Date.now();
    if (wait > 0) await page.waitForTimeout(wait);
    await page.goto('/tokens');
    await expect(page.locator('#token-error')).toHaveCount(0);
    await expect(page.locator('#userinfo')).toContainText('Alice Example');
    const refreshes = (await providerRecord()).refreshGrants[client] ?? 0;
    expect(refreshes).toBeGreaterThan(before.refreshGrants[client] ?? 0);
    const refresh = (await issuedSince(client, mark)).filter((t) => t.kind === 'refresh').at(-1)?.value ?? '';
    expect(await tokenAtProvider(refresh)).toMatchObject({ refresh: true, consumed: false });

    await page.goto('/');
    await hydrated(page);
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.waitForURL(`${TOKENS_URL}/`, { waitUntil: 'load' });
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    expect((await providerRecord()).revocations).toBeGreaterThan(before.revocations);
    expect(await tokenAtProvider(refresh), 'revoked by the app').toMatchObject({ refresh: false });
  });
}

test('private_key_jwt with an EC P-256 key signs in', async ({ page }) => {
  const mark = (await providerRecord()).tokens.length;
  await logInWith(page, 'jwt-ec');
  await page.waitForURL(`${TOKENS_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');
  expect((await issuedSince('leptos-jwt', mark)).map((t) => t.kind)).toContain('id');
});

test('a key the provider does not know ends on the sign-in error page', async ({ page }) => {
  const mark = (await providerRecord()).tokens.length;
  await logInWith(page, 'wrong-key');
  await expect(page.locator('h1')).toHaveText('Sign-in failed');
  await expect(page.locator('#auth-error')).toContainText("did not accept this site's credentials");
  expect(await issuedSince('leptos-jwt', mark)).toEqual([]);
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});
