import { expect, type Page } from '@playwright/test';
import { signInAtProvider } from './idp';

/** Resolves once the WebAssembly has hydrated the page (app/src/lib.rs marks <body>). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toBeAttached();
}

/** From a page showing "Log in": signs in at the provider as `login` and waits to be back. */
export async function logIn(page: Page, login: string): Promise<void> {
  await page.getByRole('button', { name: 'Log in' }).click();
  await signInAtProvider(page, login);
  await page.waitForURL((url) => url.pathname !== '/oauth2callback');
}

export const greeting = (page: Page) => page.locator('#greeting');
