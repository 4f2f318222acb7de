import { expect, test, type APIRequestContext, type Browser } from '@playwright/test';
import { greeting, hydrated, logIn } from './helpers/app';
import { ISSUER } from './helpers/idp';

// Issue #8, "never locked out": the provider restarts with a new signing key under the same
// kid (end2end/oidc/provider.mjs, OIDC_ADMIN). The app still caches the old key, so the
// next ID token fails its signature check against it; that refetches the JWKS once and the
// login succeeds, with no restart of the app.
//
// Deterministic whatever ran before: a refetch is refused only within 60 s of one that found
// no new keys (or failed), and no other spec makes the app refetch; the refetch of a retry
// of this test follows one that found new keys, which starts no cool-down.

async function signInFresh(browser: Browser, login: string, name: string): Promise<void> {
  // A fresh context: no provider session, so the provider signs a new ID token after its form.
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto('/');
    await hydrated(page);
    await logIn(page, login);
    await expect(page).toHaveURL('/');
    await expect(greeting(page)).toHaveText(`Hello, ${name}!`);
  } finally {
    await context.close();
  }
}

async function publishedKey(request: APIRequestContext) {
  const discovery = await (await request.get(`${ISSUER}/.well-known/openid-configuration`)).json();
  const jwks = await (await request.get(discovery.jwks_uri)).json();
  expect(jwks.keys).toHaveLength(1);
  return jwks.keys[0];
}

test('a provider restarted with a new key under the same kid: the next login succeeds', async ({ browser, request }) => {
  await signInFresh(browser, 'alice', 'Alice Example');
  const before = await publishedKey(request);

  const rotated = await request.post(`${ISSUER}/__admin/rotate-key`);
  expect(rotated.ok()).toBeTruthy();
  const after = await publishedKey(request);
  expect(after.kid).toBe(before.kid);
  expect(after.n).not.toBe(before.n);

  await signInFresh(browser, 'bob', 'Bob Builder');
  // And the key keeps working for the specs that follow.
  await signInFresh(browser, 'alice', 'Alice Example');
});
