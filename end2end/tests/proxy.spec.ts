// Behind Debian's nginx with its default buffer sizes (8 KB request headers, 4 KB upstream
// response headers), in front of the release build, as a deployment runs it.
import { expect, test, type BrowserContext } from '@playwright/test';
import { PROXY_URL, RELEASE } from '../playwright.config';
import { greeting, hydrated, logIn } from './helpers/app';

test.skip(!RELEASE, 'runs against the release build (make release-e2e)');
test.use({ baseURL: PROXY_URL });

/** Starts `count` logins in this browser and never finishes them. */
async function abandonLogins(context: BrowserContext, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await context.request.post(`${PROXY_URL}/api/auth/login`, {
      form: { next: `/claims?attempt=${i}` },
      headers: { Accept: 'application/json' },
    });
    expect(response.status(), await response.text()).toBe(200);
  }
}

/** What this project's cookies add to every request's Cookie header. */
async function ourCookieBytes(context: BrowserContext): Promise<number> {
  const ours = (await context.cookies(PROXY_URL)).filter((c) => c.name.startsWith('auth_'));
  return ours.reduce((sum, c) => sum + c.name.length + c.value.length + 2, 0);
}

test('signing in and out works through the proxy', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await logIn(page, 'alice');
  await expect(page).toHaveURL(`${PROXY_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Alice Example!');
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('a visitor who abandoned many logins can still use the site and sign in', async ({ page, context }) => {
  await abandonLogins(context, 40);
  const logins = (await context.cookies(PROXY_URL)).filter((c) => c.name.startsWith('auth_login_'));
  expect(logins.length).toBeLessThanOrEqual(4);
  expect(await ourCookieBytes(context)).toBeLessThan(4096);

  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await hydrated(page);
  await logIn(page, 'bob');
  await expect(greeting(page)).toHaveText('Hello, Bob Builder!');
  expect(await ourCookieBytes(context)).toBeLessThan(4096);
});

test('the largest claim set the project keeps passes the proxy both ways', async ({ page, context }) => {
  await abandonLogins(context, 10);
  await page.goto('/');
  await hydrated(page);
  await logIn(page, 'big-2000');
  await expect(greeting(page)).toContainText('Hello, BBBB');
  const identity = (await context.cookies(PROXY_URL)).find((c) => c.name === 'auth_user');
  // Near the cookie's limit (3,500 bytes of name and value).
  expect((identity?.value.length ?? 0)).toBeGreaterThan(3000);
  // Every later request carries it, beside the logins still under way.
  const again = await page.reload();
  expect(again?.status()).toBe(200);
  await expect(greeting(page)).toContainText('Hello, BBBB');
});
