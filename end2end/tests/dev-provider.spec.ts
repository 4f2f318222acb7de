import { expect, test } from '@playwright/test';
import { APP_URL, DEV_APP_URL } from '../playwright.config';
import { greeting, hydrated } from './helpers/app';

// The server started with no configuration: sign-in runs through its own development provider.
test.use({ baseURL: DEV_APP_URL });

test('a fresh clone signs in with no configuration, as a listed user', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await expect(page.locator('#dev-provider-banner')).toContainText('anyone can sign in as anyone');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dev-idp\/authorize\?/);
  await page.getByRole('button', { name: 'Sign in as Grace Hopper' }).click();
  await expect(page).toHaveURL(`${DEV_APP_URL}/`);
  await expect(greeting(page)).toHaveText('Hello, Grace Hopper!');

  await page.getByRole('link', { name: 'Your claims' }).click();
  await expect(page.locator('#claims')).toContainText('grace@example.com');
  await expect(page.locator('#dev-provider-banner')).toBeVisible();

  await page.getByRole('link', { name: 'Home' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(greeting(page)).toHaveCount(0);
});

test('any typed name and email can sign in', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByLabel('Name').fill('Katherine Johnson');
  await page.getByLabel('Email').fill('katherine@example.com');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(greeting(page)).toHaveText('Hello, Katherine Johnson!');
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('a developer who types localhost instead of 127.0.0.1 signs in there too', async ({ page }) => {
  // The same server under its other loopback name: the browser keeps its cookies apart.
  const localhost = DEV_APP_URL.replace('127.0.0.1', 'localhost');
  await page.goto(`${localhost}/`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/dev-idp\/authorize\?/);
  await page.getByRole('button', { name: 'Sign in as Ada Lovelace' }).click();
  await expect(page).toHaveURL(`${localhost}/`);
  await expect(greeting(page)).toHaveText('Hello, Ada Lovelace!');
  await expect(page.getByText('expired or was already used')).toHaveCount(0);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
});

test('the configured server shows no development banner', async ({ page }) => {
  await page.goto(`${APP_URL}/`);
  await expect(page.getByRole('heading', { name: 'Leptos sign-in' })).toBeVisible();
  await expect(page.locator('#dev-provider-banner')).toHaveCount(0);
});
