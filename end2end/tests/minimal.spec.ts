import { expect, test } from '@playwright/test';
import { MINIMAL_URL, TEMPLATE_APP_URL } from '../playwright.config';

// examples/minimal, built on its own as an app outside this repository is, and a new app
// made from the start template (scripts/template.sh build): each started with no
// configuration, so each signs in through its development provider. Debug builds only.
for (const [what, url] of [
  ['examples/minimal', MINIMAL_URL],
  ['a new app from the start template', TEMPLATE_APP_URL],
] as const) {
  test.describe(what, () => {
    test.use({ baseURL: url });

    test('signs in and out, and only members reach the members page, its data and the handler', async ({
      page,
      request,
    }) => {
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));

      // Signed out: the members' data and the axum handler refuse, the page sends to /login.
      expect((await request.get('/api/me')).status()).toBe(401);
      await page.goto('/members');
      await expect(page).toHaveURL(/\/login\?next=(%2F|\/)members$/);

      const wasm = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('.wasm'));
      await page.goto('/');
      expect((await wasm).ok()).toBe(true);
      await expect(page.getByText(/anyone can sign in as anyone/)).toBeVisible();
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page).toHaveURL(/\/dev-idp\/authorize\?/);
      await page.getByRole('button', { name: 'Sign in as Grace Hopper' }).click();
      await expect(page).toHaveURL(`${url}/`);
      await expect(page.getByText('Hello, Grace Hopper!')).toBeVisible();

      // The members page, by a client-side navigation: its data comes from the server
      // function, which reads the cookie.
      await page.getByRole('link', { name: 'Members' }).click();
      await expect(page.getByText("Members' news for Grace Hopper.")).toBeVisible();
      const me = await page.request.get('/api/me');
      expect(me.status()).toBe(200);
      expect(await me.text()).toContain('Grace Hopper (');

      await page.getByRole('link', { name: 'Home' }).click();
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await expect(page.getByText(/^Hello, /)).toHaveCount(0);
      expect((await page.request.get('/api/me')).status()).toBe(401);
      expect(errors).toEqual([]);
    });
  });
}
