// Pushed authorization requests (RFC 9126, issue #21 item 5): the tokens server's named
// provider `par` (secrets.tokens.e2e.toml, use_par = true) is the test provider's leptos-par
// client, which must push every login (oidc/provider.mjs: require_pushed_authorization_requests).
// The login's parameters go to the provider's /request endpoint server to server; the browser
// reaches the authorization endpoint with only client_id and request_uri. The same client
// without use_par (`par-unpushed`) is refused by the provider: the control that shows the
// requirement is real.
import { expect, test, type Page, type Request } from '@playwright/test';
import { RELEASE, TOKENS_URL } from '../playwright.config';
import { greeting, hydrated } from './helpers/app';
import { ISSUER, providerRecord, signInAtProvider } from './helpers/idp';

test.skip(RELEASE, 'the debug run starts the tokens server (app-tokens)');
test.use({ baseURL: TOKENS_URL });

/** The provider's authorization endpoint (discovery's authorization_endpoint), not its other pages. */
async function authorizationEndpoint(): Promise<string> {
  const discovery = await (await fetch(`${ISSUER}/.well-known/openid-configuration`)).json();
  return String(discovery.authorization_endpoint);
}

/** Starts a login with the `[auth.NAME]` provider `provider` from the home page's login form. */
async function startLoginWith(page: Page, provider: string): Promise<void> {
  await page.goto('/');
  await hydrated(page);
  // The page's plain <LoginButton/> posts the unnamed provider; the same form names another,
  // as <LoginButton provider="NAME"/> would (as client-auth.spec.ts does).
  await page.locator('form.auth-login').first().evaluate((form: HTMLFormElement, name: string) => {
    const field = form.querySelector<HTMLInputElement>('input[name="provider"]');
    if (field) field.value = name;
    form.submit();
  }, provider);
}

test('a pushed login sends the browser with only client_id and request_uri, and signs in', async ({ page }) => {
  const endpoint = await authorizationEndpoint();
  const before = (await providerRecord()).requests['POST /request'] ?? 0;
  const toAuthorization: Request[] = [];
  page.on('request', (request) => {
    if (request.url().split('?')[0] === endpoint) toAuthorization.push(request);
  });

  await startLoginWith(page, 'par');
  await signInAtProvider(page, 'alice');
  await page.waitForURL(`${TOKENS_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');

  // The app pushed the login (with its client credentials) before sending the browser.
  expect((await providerRecord()).requests['POST /request'] ?? 0).toBeGreaterThan(before);
  // The browser's first request to the authorization endpoint is the app's redirect; the
  // provider may come back to it later (resuming after its login page), with its own query.
  expect(toAuthorization.length, 'the browser went to the authorization endpoint').toBeGreaterThan(0);
  const asked = new URL(toAuthorization[0].url());
  expect([...asked.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
  expect(asked.searchParams.get('client_id')).toBe('leptos-par');
  expect(asked.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:.+/);
});

test('the same client without use_par is refused by the provider, which requires pushing', async ({ page }) => {
  const endpoint = await authorizationEndpoint();
  const authorization = page.waitForRequest((request) => request.url().split('?')[0] === endpoint);
  await startLoginWith(page, 'par-unpushed');
  const asked = new URL((await authorization).url());
  expect(asked.searchParams.get('client_id')).toBe('leptos-par');
  expect(asked.searchParams.has('state'), 'the usual authorization request').toBe(true);
  expect(asked.searchParams.has('request_uri')).toBe(false);
  // The provider's refusal, on its own error page or on the app's (back with error=…).
  await expect(page.locator('body')).toContainText('Pushed Authorization Request must be used');
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});
