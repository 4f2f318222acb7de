// Sign-in and sign-out as the visitor sees them, timed inside the browser so that the
// harness's own latency (Playwright's clicks, form filling, polling) is not counted: every
// page of a context stamps, in its origin's sessionStorage, when a "Log in"/"Log out" button
// was clicked, when the provider's login form appeared, when the greeting appeared and when a
// "Log in" button appeared. The same code times this project's app and Streamlit's.
import type { BrowserContext, Page } from '@playwright/test';

const KEYS = ['bench-click', 'bench-form', 'bench-hello', 'bench-login-button'];

/** Makes every page of `context` stamp those moments; `hello` is the greeting's text. */
export async function stampMoments(context: BrowserContext, hello: string): Promise<void> {
  await context.addInitScript((greeting: string) => {
    const now = () => String(performance.timeOrigin + performance.now());
    const store = (() => {
      try {
        return window.sessionStorage;
      } catch {
        return undefined; // an opaque origin
      }
    })();
    if (!store) return;
    const stamp = (key: string) => {
      if (!store.getItem(key)) store.setItem(key, now());
    };
    addEventListener(
      'click',
      (event) => {
        const button = event.target instanceof Element ? event.target.closest('button') : null;
        const label = button?.textContent?.trim();
        if (label === 'Log in' || label === 'Log out') store.setItem('bench-click', now());
      },
      true,
    );
    const look = () => {
      if (document.querySelector('input[name="login"]')) stamp('bench-form');
      if (document.documentElement?.textContent?.includes(greeting)) stamp('bench-hello');
      for (const button of document.querySelectorAll('button')) {
        if (button.textContent?.trim() === 'Log in') {
          stamp('bench-login-button');
          break;
        }
      }
    };
    new MutationObserver(look).observe(document, { childList: true, subtree: true, characterData: true });
  }, hello);
}

async function clearStamps(page: Page): Promise<void> {
  await page.evaluate((keys) => keys.forEach((key) => sessionStorage.removeItem(key)), KEYS);
}

async function readStamps(page: Page): Promise<Record<string, number>> {
  return page.evaluate(
    (keys) => Object.fromEntries(keys.map((key) => [key, Number(sessionStorage.getItem(key) ?? NaN)])),
    KEYS,
  );
}

/** The parts of one sign-in, in ms: the app's (click to the provider's form, the provider's
 * submit to the greeting) and their sum. The visitor's typing at the provider is not in it. */
export interface LoginTiming {
  toProvider: number;
  back: number;
  total: number;
}

/** From `url` (showing "Log in"), signs in as alice at the test provider; times it. */
export async function timeLogin(page: Page, url: string, hello: string): Promise<LoginTiming> {
  await page.goto(url);
  const login = page.getByRole('button', { name: 'Log in' });
  await login.waitFor();
  await clearStamps(page);
  await login.click();
  await page.locator('input[name="login"]').waitFor();
  const { formAt, submitAt } = await page.evaluate(() => {
    const formAt = Number(sessionStorage.getItem('bench-form'));
    sessionStorage.removeItem('bench-form');
    const field = (name: string) => document.querySelector<HTMLInputElement>(`input[name="${name}"]`);
    const form = field('login')?.form;
    field('login')!.value = 'alice';
    field('password')!.value = 'any-password';
    const submitAt = performance.timeOrigin + performance.now();
    setTimeout(() => form?.requestSubmit());
    return { formAt, submitAt };
  });
  await page.getByText(hello).waitFor();
  const stamps = await readStamps(page);
  const toProvider = formAt - stamps['bench-click'];
  const back = stamps['bench-hello'] - submitAt;
  return { toProvider, back, total: toProvider + back };
}

/** On a signed-in page, clicks "Log out" and times it until a "Log in" button shows. */
export async function timeLogout(page: Page): Promise<number> {
  await clearStamps(page);
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  const stamps = await readStamps(page);
  return stamps['bench-login-button'] - stamps['bench-click'];
}
