import { expect, test } from '@playwright/test';
import { greeting, hydrated, logIn } from './helpers/app';
import { ISSUER, signInAtProvider } from './helpers/idp';

/** The provider's authorization endpoint, where a login sends the browser with its parameters. */
const atAuthorization = (url: string) =>
  url.startsWith(ISSUER) && new URL(url).searchParams.has('response_type');

// Step-up (#21.3): a page that needs a recent sign-in (`<RequireUser max_age=…>`, the reference
// app's /account asks for 10 seconds) or a stronger one (`acr_values`) sends a visitor who
// falls short through the provider again, and back. The test provider (oidc/provider.mjs)
// knows two classes of sign-in: urn:e2e:pwd, and urn:e2e:mfa with a one-time code.

test('a page that needs a recent sign-in lets a fresh one in, and asks an old one to sign in again', async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto('/');
  await logIn(page, 'alice');
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');

  await page.goto('/account');
  await expect(page.locator('#account')).toContainText('within the last 10 seconds');
  await expect(page.locator('#account')).toContainText('Alice Example');

  // The sign-in grows older than the page takes: the server's render sends the visitor to
  // sign in again, asking the provider for max_age, and the page remembers where it was.
  await page.waitForTimeout(11_000);
  await page.goto('/account');
  await expect(page).toHaveURL(/\/login\?next=\/account&max_age=10$/);
  await expect(page.getByRole('heading', { name: 'Sign in again to continue' })).toBeVisible();
  await expect(page.locator('#account')).toHaveCount(0);

  const authorization = page.waitForRequest((request) => atAuthorization(request.url()));
  await page.getByRole('button', { name: 'Log in' }).click();
  const asked = new URL((await authorization).url());
  expect(asked.searchParams.get('max_age'), 'the provider is asked for a fresh sign-in').toBe('10');
  await signInAtProvider(page, 'alice');
  await expect(page).toHaveURL('/account');
  await expect(page.locator('#account')).toContainText('Alice Example');

  // In the browser too: a client-side visit decides by the same sign-in.
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'Your account' }).click();
  await expect(page.locator('#account')).toContainText('Alice Example');
});

test('a login asking for a second factor comes back with one, or not at all', async ({ page }) => {
  await page.goto('/');
  await logIn(page, 'alice');
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');

  // Signed in with a password; a page asking for the second factor's class (what
  // `<RequireUser acr_values="urn:e2e:mfa">` sends) offers to sign in again.
  const stepUp = `/login?next=${encodeURIComponent('/claims')}&acr_values=${encodeURIComponent('urn:e2e:mfa')}`;
  const signInAgain = async () => {
    await page.goto(stepUp);
    await expect(page.getByRole('heading', { name: 'Sign in again to continue' })).toBeVisible();
    const authorization = page.waitForRequest((request) => atAuthorization(request.url()));
    await page.getByRole('button', { name: 'Log in' }).click();
    expect(new URL((await authorization).url()).searchParams.get('acr_values')).toBe('urn:e2e:mfa');
    await expect(page.locator('input[name="code"]'), 'the provider asks for the second factor').toBeVisible();
  };

  // A provider that signs the visitor in with less than asked (no code: the password's class)
  // signs no one in: the error page, with a way back, and the visitor keeps the sign-in they had.
  await signInAgain();
  await signInAtProvider(page, 'alice');
  await expect(page.getByRole('heading', { name: 'Sign-in failed' })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');
  await page.goto('/claims');
  const claims = page.locator('#claims');
  await expect(claims.getByRole('row', { name: /^email / })).toContainText('alice@example.com');
  await expect(claims).not.toContainText('urn:e2e:mfa');

  // With the code, the sign-in comes back with the class asked, and the session keeps it.
  await signInAgain();
  await page.locator('input[name="code"]').fill('123456');
  await signInAtProvider(page, 'alice');
  await expect(page).toHaveURL('/claims');
  await expect(claims.getByRole('row', { name: /^acr / }).getByRole('cell')).toHaveText('urn:e2e:mfa');
  await page.goto(stepUp);
  await expect(page, 'asked again, the sign-in is strong enough').toHaveURL('/claims');
});
