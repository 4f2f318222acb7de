import { expect, test } from '@playwright/test';
import { MINIMAL_URL } from '../playwright.config';

// examples/minimal: the smallest app built on `auth`, started with no configuration, so it
// signs in through its development provider. Not run against release builds (not built).
test.use({ baseURL: MINIMAL_URL });

test('the minimal example signs in and out through its development provider', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const wasm = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('.wasm'));
  await page.goto('/');
  expect((await wasm).ok()).toBe(true);

  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dev-idp\/authorize\?/);
  await page.getByRole('button', { name: 'Sign in as Grace Hopper' }).click();
  await expect(page).toHaveURL(`${MINIMAL_URL}/`);
  await expect(page.getByText('Hello, Grace Hopper!')).toBeVisible();

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(page.getByText(/^Hello, /)).toHaveCount(0);
  expect(errors).toEqual([]);
});
