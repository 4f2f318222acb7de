// "Where you're signed in" (stores issue, item 3): with a session store, /sessions lists the
// account's sessions (when each began and was last seen, the provider, a coarse browser name,
// which one is this browser) and ends any other one with a plain form post; that browser is
// signed out at its next request. An id of no session of the account (another account's, made
// up) is refused the same way. In cookie mode the page says it needs a session store. The debug
// run's `app` keeps its sessions in SQLite; the release run's cookie-mode servers stand behind
// their balancer (playwright.config.ts).
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { APP_URL, COOKIE_BALANCER_URL, RELEASE } from '../playwright.config';
import { greeting, hydrated, logIn } from './helpers/app';

const IDENTITY = 'auth_user';
const ALICE = { login: 'alice', name: 'Alice Example' };
const BOB = { login: 'bob', name: 'Bob Builder' };
type Person = typeof ALICE;

interface SignedIn {
  context: BrowserContext;
  page: Page;
}

/** Signs `who` in at `origin`'s home page, in a browser context (a browser) of its own. */
async function signIn(browser: Browser, who: Person, origin = APP_URL): Promise<SignedIn> {
  // JavaScript on whatever the test's own options say (contexts made here do not inherit them).
  const context = await browser.newContext({ baseURL: origin, javaScriptEnabled: true });
  const page = await context.newPage();
  await page.goto('/');
  await hydrated(page);
  await logIn(page, who.login);
  await expect(greeting(page)).toHaveText(`Hello, ${who.name}!`);
  return { context, page };
}

/** Ends every session `who` has on the app (other specs' browsers), so a test counts its own. */
async function signOutEverywhere(browser: Browser, who: Person): Promise<void> {
  const { context, page } = await signIn(browser, who);
  await page.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await context.close();
}

const rows = (page: Page) => page.locator('#sessions tbody tr');
const thisBrowser = (page: Page) => page.locator('#sessions tbody tr.this-browser');
const others = (page: Page) => page.locator('#sessions tbody tr:not(.this-browser)');

/** This browser's session id, as its /sessions page hands it out. */
async function ownSessionId(page: Page): Promise<string> {
  await page.goto('/sessions');
  await expect(thisBrowser(page)).toHaveCount(1);
  const id = await thisBrowser(page).getAttribute('data-session-id');
  expect(id, 'the row names its session').toBeTruthy();
  return id ?? '';
}

/** POSTs `end_session` with `id` as the page's own form would (same origin, the browser's cookies). */
async function endSession(context: BrowserContext, id: string, accept?: string) {
  return context.request.post(`${APP_URL}/api/auth/end_session`, {
    form: { id },
    headers: { Origin: APP_URL, Referer: `${APP_URL}/sessions`, ...(accept ? { Accept: accept } : {}) },
    maxRedirects: 0,
  });
}

test.describe("where you're signed in, sessions in SQLite (debug run)", () => {
  test.skip(RELEASE, 'the debug run configures the app with an SQLite session store');

  test('one browser sees both of the account, ends the other, which is signed out at its next load', async ({
    browser,
  }) => {
    await signOutEverywhere(browser, ALICE);
    const first = await signIn(browser, ALICE);
    const second = await signIn(browser, ALICE);

    // From the home page's nav, as a visitor finds it.
    await first.page.getByRole('link', { name: "Where you're signed in" }).click();
    await expect(first.page).toHaveURL('/sessions');
    await expect(first.page.getByRole('heading', { name: "Where you're signed in" })).toBeVisible();
    await expect(rows(first.page)).toHaveCount(2);
    await expect(thisBrowser(first.page)).toHaveCount(1);
    await expect(thisBrowser(first.page)).toContainText('This browser');
    // Debian's chromium on Linux, named coarsely: never the User-Agent itself.
    for (const device of await first.page.locator('#sessions .session-device').all()) {
      await expect(device).toHaveText(/^Chrom(e|ium) on Linux$/);
    }
    await expect(first.page.locator('#sessions')).not.toContainText('Mozilla');
    for (const cell of ['.session-began', '.session-seen']) {
      await expect(thisBrowser(first.page).locator(cell)).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    }
    await expect(thisBrowser(first.page).getByRole('button', { name: 'End' })).toHaveCount(0);

    // The handle is not the other browser's cookie (nor a part of it).
    const otherId = (await others(first.page).getAttribute('data-session-id')) ?? '';
    expect(otherId.length, 'an id').toBeGreaterThan(0);
    const secondCookie = (await second.context.cookies(APP_URL)).find((c) => c.name === IDENTITY)?.value ?? '';
    expect(secondCookie.length, 'the second browser has its cookie').toBeGreaterThan(0);
    expect(secondCookie).not.toContain(otherId);
    // The second browser lists the same two, itself marked.
    expect(await ownSessionId(second.page)).toBe(otherId);

    await hydrated(first.page);
    await others(first.page).getByRole('button', { name: 'End' }).click();
    // Back on the page (a plain form post, redirected back), one session left: this one.
    await expect(first.page).toHaveURL('/sessions');
    await expect(rows(first.page)).toHaveCount(1);
    await expect(thisBrowser(first.page)).toHaveCount(1);

    await second.page.goto('/');
    await expect(second.page.getByRole('button', { name: 'Log in' })).toBeVisible();
    await expect(greeting(second.page)).toHaveCount(0);
    await first.page.goto('/');
    await expect(greeting(first.page)).toHaveText(`Hello, ${ALICE.name}!`);
    for (const s of [first, second]) await s.context.close();
  });

  test("another account's session id, or a made-up one, is refused alike and ends nothing", async ({ browser }) => {
    const alice = await signIn(browser, ALICE);
    const bob = await signIn(browser, BOB);
    const bobsId = await ownSessionId(bob.page);
    await alice.page.goto('/sessions');
    const before = await rows(alice.page).count();

    // From code: 404, the same answer for either.
    const answers = [];
    for (const id of [bobsId, 'AAAAAAAAAAAAAAAAAAAAAA', 'not-a-session-id']) {
      const response = await endSession(alice.context, id);
      expect(response.status(), id).toBe(404);
      answers.push(await response.text());
    }
    expect(new Set(answers).size, 'nothing tells the ids apart').toBe(1);

    // As a form posted without JavaScript: back to the page, which says why.
    const response = await endSession(alice.context, bobsId, 'text/html');
    expect([302, 303]).toContain(response.status());
    const location = response.headers()['location'] ?? '';
    expect(location).toContain('auth_error=no_such_session');
    expect(location).toContain('auth_form=end_session');
    await alice.page.goto(location);
    await expect(alice.page.getByRole('alert')).toContainText('There is no such session of yours');
    await expect(rows(alice.page)).toHaveCount(before);

    await bob.page.goto('/');
    await expect(greeting(bob.page)).toHaveText(`Hello, ${BOB.name}!`);
    await alice.page.goto('/');
    await expect(greeting(alice.page)).toHaveText(`Hello, ${ALICE.name}!`);
    for (const s of [alice, bob]) await s.context.close();
  });

  test.describe('with JavaScript off', () => {
    test.use({ javaScriptEnabled: false });

    test('"End" is a plain form post', async ({ browser }) => {
      const other = await signIn(browser, ALICE);
      const context = await browser.newContext({ baseURL: APP_URL, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto('/');
      await logIn(page, ALICE.login);
      await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);
      const otherId = await ownSessionId(other.page);

      await page.goto('/sessions');
      await page.locator(`#sessions tr[data-session-id="${otherId}"]`).getByRole('button', { name: 'End' }).click();
      await expect(page).toHaveURL('/sessions');
      await expect(page.locator(`#sessions tr[data-session-id="${otherId}"]`)).toHaveCount(0);
      await expect(thisBrowser(page)).toHaveCount(1);

      await other.page.goto('/');
      await expect(other.page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await other.context.close();
      await context.close();
    });
  });
});

test.describe("where you're signed in, the default cookie mode (release run)", () => {
  test.skip(!RELEASE, 'the release run starts the cookie-mode servers (make release-e2e)');

  test('the page says it needs a session store, and ending is refused with 409', async ({ browser }) => {
    const { context, page } = await signIn(browser, ALICE, COOKIE_BALANCER_URL);
    await page.goto('/sessions');
    await expect(page.locator('#sessions-need-store')).toContainText('needs sessions kept on the server');
    await expect(page.locator('#sessions')).toHaveCount(0);
    const response = await context.request.post(`${COOKIE_BALANCER_URL}/api/auth/end_session`, {
      form: { id: 'AAAAAAAAAAAAAAAAAAAAAA' },
      headers: { Origin: COOKIE_BALANCER_URL, Referer: `${COOKIE_BALANCER_URL}/sessions` },
      maxRedirects: 0,
    });
    expect(response.status()).toBe(409);
    await page.goto('/');
    await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);
    await context.close();
  });
});
