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

/** A token the provider's token endpoint issued (GET /__admin/issued-tokens, OIDC_ADMIN=1). */
export interface IssuedToken {
  /** Its place in the provider's list: everything issued after a test began has a larger one. */
  seq: number;
  at: number;
  clientId: string;
  grantType: 'authorization_code' | 'refresh_token';
  kind: 'access' | 'refresh' | 'id';
  value: string;
  /** Access tokens: when the provider said it expires (ms since the epoch). */
  expiresAt?: number;
  /** Access tokens: the token_type of the answer (`Bearer`, or `DPoP` for a bound one). */
  tokenType?: string;
}

/** What the provider issued and did (end2end/oidc/provider.mjs's admin endpoints). */
export interface ProviderRecord {
  tokens: IssuedToken[];
  /** Refresh grants answered, by client. */
  refreshGrants: Record<string, number>;
  /** Requests to the revocation endpoint. */
  revocations: number;
  /** Back-channel logouts the provider sent, with their outcome (the app answered 200). */
  backchannel: { clientId: string; accountId: string; sid: string; ok: boolean; error?: string }[];
  /** Requests by `METHOD /path` (e.g. `GET /me`, the userinfo endpoint). */
  requests: Record<string, number>;
}

async function admin<T>(path: string): Promise<T> {
  const response = await fetch(`${ISSUER}/__admin/${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return (await response.json()) as T;
}

export const providerRecord = () => admin<ProviderRecord>('issued-tokens');

/**
 * Whether the provider still holds `value` as an access or refresh token; for an access token
 * bound to a DPoP key, that key's thumbprint (`jkt`).
 */
export const tokenAtProvider = (value: string) =>
  admin<{ access: boolean; refresh: boolean; consumed: boolean; jkt: string | null }>(
    `token?value=${encodeURIComponent(value)}`,
  );

/** Whether the provider session with this cookie value (e2e_op_session) still exists. */
export const providerSessionExists = async (id: string) =>
  (await admin<{ found: boolean }>(`session?id=${encodeURIComponent(id)}`)).found;

/** The provider's session cookie. */
export const PROVIDER_SESSION_COOKIE = 'e2e_op_session';
