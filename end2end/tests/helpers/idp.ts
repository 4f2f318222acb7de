import { expect, type Page } from '@playwright/test';

/** Issuer of the test OpenID Provider (end2end/oidc/provider.mjs). */
export const ISSUER: string = (process.env.OIDC_ISSUER || 'http://127.0.0.1:9090').replace(/\/+$/, '');

/** True while `url` is a page of the test provider. */
function atProvider(url: URL | string): boolean {
  return new URL(String(url)).origin === new URL(ISSUER).origin;
}

/**
 * Given a page on (or being redirected to) the provider's login form, signs in
 * as `login` and returns once the browser has left the provider, i.e. is on
 * the relying party's redirect_uri (or wherever the RP sends it next).
 *
 * Any login name is accepted and the password is ignored; `alice` and `bob`
 * have fixed profiles, other names get `<Name>` / `<login>@example.com`.
 * The provider grants consent by itself; should a consent page ever appear,
 * it is confirmed too.
 */
export async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => atProvider(url) && url.pathname.startsWith('/interaction/'));
  const loginField = page.locator('input[name="login"]');
  await expect(loginField).toBeVisible();
  await loginField.fill(login);
  await page.locator('input[name="password"]').fill('any-password');

  const consentButton = page.getByRole('button', { name: /^(continue|authorize|allow)$/i }).first();
  const errorMessage = page.locator('[role="alert"]');

  await page.locator('form button[type="submit"]').click();

  for (;;) {
    const outcome = await Promise.race([
      page.waitForURL((url) => !atProvider(url), { waitUntil: 'commit' }).then(() => 'left' as const),
      consentButton.waitFor({ state: 'visible' }).then(() => 'consent' as const),
      errorMessage.waitFor({ state: 'visible' }).then(() => 'error' as const),
    ]); // Promise.race handles the losers' later rejections.
    if (outcome === 'left') return;
    if (outcome === 'error') {
      throw new Error(`sign-in at the provider failed: ${await errorMessage.textContent()}`);
    }
    const before = page.url();
    await Promise.all([
      page.waitForURL((url) => url.href !== before, { waitUntil: 'commit' }),
      consentButton.click(),
    ]);
  }
}
