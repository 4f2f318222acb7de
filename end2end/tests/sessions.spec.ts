// Server-side sessions (issue #9): with a session store the identity cookie holds only a sealed
// session id, so a logout ends the session on every server, and "Log out everywhere" ends all
// of a user's sessions. The debug run's `app` keeps them in SQLite; the release run puts two
// servers on one Redis behind nginx as a round-robin balancer, two on one Postgres behind
// another (the same tests, once for each store), and two in the default, stateless cookie
// mode behind a third (playwright.config.ts). Each balancer response names the server that
// answered in `X-Upstream`.
import {
  expect,
  request as playwrightRequest,
  test,
  type Browser,
  type BrowserContext,
  type Page,
} from '@playwright/test';
import { readFileSync } from 'node:fs';
import {
  APP_URL,
  COOKIE_BALANCER_URL,
  COOKIE_UPSTREAMS,
  POSTGRES_BALANCER_URL,
  POSTGRES_UPSTREAMS,
  REDIS_PID_FILE,
  RELEASE,
  STORE_BALANCER_URL,
  STORE_UPSTREAMS,
} from '../playwright.config';
import { greeting, hydrated, logIn } from './helpers/app';
import { pausePostgres, postmaster, resumePostgres } from './helpers/postgres';

const IDENTITY = 'auth_user';
const ALICE = { login: 'alice', name: 'Alice Example' };
const BOB = { login: 'bob', name: 'Bob Builder' };
type Person = typeof ALICE;

interface SignedIn {
  context: BrowserContext;
  page: Page;
  /** The servers that answered the login's POST and its callback (balancers only). */
  login?: string;
  callback?: string;
}

/** Signs `who` in at `origin`'s home page, in a browser context of its own. */
async function signIn(browser: Browser, origin: string, who: Person): Promise<SignedIn> {
  const context = await browser.newContext({ baseURL: origin, javaScriptEnabled: true });
  const page = await context.newPage();
  const signedIn: SignedIn = { context, page };
  page.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== origin) return;
    const upstream = response.headers()['x-upstream'];
    if (url.pathname === '/api/auth/login') signedIn.login = upstream;
    if (url.pathname === '/oauth2callback') signedIn.callback = upstream;
  });
  await page.goto('/');
  await hydrated(page);
  await logIn(page, who.login);
  await expect(page).toHaveURL(`${origin}/`);
  await expect(greeting(page)).toHaveText(`Hello, ${who.name}!`);
  // Nothing of this page's still on its way through a balancer while a test counts its turns.
  await hydrated(page);
  return signedIn;
}

/** The identity cookie's value, as someone who copied it off the machine would have it. */
async function identityCookie(context: BrowserContext, origin: string): Promise<string> {
  const cookie = (await context.cookies(origin)).find((c) => c.name === IDENTITY);
  expect(cookie, 'the identity cookie').toBeDefined();
  return cookie?.value ?? '';
}

/** Logs out with the home page's "Log out" button; returns the server that answered. */
async function logOut(page: Page, button = 'Log out'): Promise<string | undefined> {
  await hydrated(page);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/auth/')),
    page.getByRole('button', { name: button, exact: true }).click(),
  ]);
  await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
  await expect(greeting(page)).toHaveCount(0);
  return response.headers()['x-upstream'];
}

interface Visit {
  status: number;
  upstream?: string;
  signedIn: boolean;
  ms: number;
  /** The response deletes the identity cookie. */
  clears: boolean;
}

/** Loads the home page with nothing but this identity cookie: a copied cookie, replayed. */
async function visit(origin: string, cookie: string, who: Person): Promise<Visit> {
  const api = await playwrightRequest.newContext();
  try {
    const start = Date.now();
    const response = await api.get(`${origin}/`, {
      headers: { cookie: `${IDENTITY}=${cookie}` },
      maxRedirects: 0,
    });
    const text = await response.text();
    const ms = Date.now() - start;
    const signedIn = text.includes(who.name);
    // Exactly one of the two, whatever the answer: never an error page.
    expect(signedIn, 'signed in or signed out').not.toBe(text.includes('You are not signed in.'));
    const clears = response
      .headersArray()
      .some(
        (h) =>
          h.name.toLowerCase() === 'set-cookie' &&
          h.value.startsWith(`${IDENTITY}=`) &&
          /max-age=0|expires=thu, 01 jan 1970/i.test(h.value),
      );
    return { status: response.status(), upstream: response.headers()['x-upstream'], signedIn, ms, clears };
  } finally {
    await api.dispose();
  }
}

/**
 * `times` replays in a row. Through a balancer its round robin has both servers answer; should
 * another request have come between, a few more replays make sure each did.
 */
async function replays(origin: string, cookie: string, who: Person, times = 4): Promise<Visit[]> {
  const all: Visit[] = [];
  const balanced = [STORE_BALANCER_URL, POSTGRES_BALANCER_URL, COOKIE_BALANCER_URL].includes(origin);
  const upstreams = () => new Set(all.map((v) => v.upstream)).size;
  while (all.length < times || (balanced && upstreams() < 2 && all.length < 3 * times)) {
    all.push(await visit(origin, cookie, who));
  }
  for (const v of all) expect(v.status).toBe(200);
  return all;
}

function expectBoth(visits: Visit[], upstreams: string[]): void {
  expect(new Set(visits.map((v) => v.upstream))).toEqual(new Set(upstreams));
}

test.describe('sessions in SQLite (debug run)', () => {
  test.skip(RELEASE, 'the debug run configures the app with an SQLite session store');

  test('a copied identity cookie is signed out once its session logged out', async ({ browser }) => {
    const { context, page } = await signIn(browser, APP_URL, ALICE);
    const cookie = await identityCookie(context, APP_URL);
    expect((await visit(APP_URL, cookie, ALICE)).signedIn, 'the copy signs in before').toBe(true);

    await logOut(page);
    for (const v of await replays(APP_URL, cookie, ALICE, 3)) {
      expect(v.signedIn, 'the copy after logout').toBe(false);
    }
    await context.close();
  });

  test('"Log out everywhere" signs the same user out of another browser, no one else', async ({ browser }) => {
    const a = await signIn(browser, APP_URL, ALICE);
    const b = await signIn(browser, APP_URL, ALICE);
    const bob = await signIn(browser, APP_URL, BOB);
    const bCookie = await identityCookie(b.context, APP_URL);

    await logOut(a.page, 'Log out everywhere');
    await b.page.reload();
    await expect(b.page.getByRole('button', { name: 'Log in' })).toBeVisible();
    expect((await visit(APP_URL, bCookie, ALICE)).signedIn).toBe(false);
    await bob.page.reload();
    await expect(greeting(bob.page)).toHaveText(`Hello, ${BOB.name}!`);
    for (const s of [a, b, bob]) await s.context.close();
  });

  test.describe('with JavaScript off', () => {
    test.use({ javaScriptEnabled: false });

    test('"Log out everywhere" is a plain form post', async ({ browser }) => {
      const other = await signIn(browser, APP_URL, ALICE);
      const context = await browser.newContext({ baseURL: APP_URL, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.goto('/');
      await logIn(page, ALICE.login);
      await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);
      await page.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
      await expect(page).toHaveURL('/');
      await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await other.page.reload();
      await expect(other.page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await other.context.close();
      await context.close();
    });
  });
});

/** A store two servers share behind a balancer, and how to make it stop answering. */
interface SharedStore {
  name: string;
  balancer: string;
  upstreams: string[];
  /** Stops the store from answering (not killed: connections hang); returns how to resume. */
  pause: () => () => void;
}

const SHARED_STORES: SharedStore[] = [
  {
    name: 'Redis',
    balancer: STORE_BALANCER_URL,
    upstreams: STORE_UPSTREAMS,
    pause: () => {
      const pid = Number(readFileSync(REDIS_PID_FILE, 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      process.kill(pid, 'SIGSTOP');
      return () => process.kill(pid, 'SIGCONT');
    },
  },
  {
    name: 'Postgres',
    balancer: POSTGRES_BALANCER_URL,
    upstreams: POSTGRES_UPSTREAMS,
    pause: () => {
      const pid = postmaster();
      expect(pid, 'the postmaster').toBeDefined();
      if (pid === undefined) return () => {};
      pausePostgres(pid);
      return () => resumePostgres(pid);
    },
  },
];

for (const store of SHARED_STORES) {
  const BALANCER = store.balancer;
  const UPSTREAMS = store.upstreams;
  test.describe(`sessions in ${store.name}, two servers behind a balancer (release run)`, () => {
    test.skip(!RELEASE, `the release run starts ${store.name} and the balanced servers (make release-e2e)`);
    test.use({ baseURL: BALANCER });

    test('logins that start on one server finish on the other', async ({ browser }) => {
      const crossed: boolean[] = [];
      for (let i = 0; i < 4; i++) {
        const s = await signIn(browser, BALANCER, ALICE);
        expect(UPSTREAMS).toContain(s.login);
        expect(UPSTREAMS).toContain(s.callback);
        crossed.push(s.login !== s.callback);
        await s.page.reload();
        await expect(greeting(s.page)).toHaveText(`Hello, ${ALICE.name}!`);
        await s.context.close();
      }
      expect(crossed, 'login POST and callback answered by different servers').toContain(true);
    });

    test('a logout answered by one server ends the session on both', async ({ browser }) => {
      const { context, page } = await signIn(browser, BALANCER, ALICE);
      const cookie = await identityCookie(context, BALANCER);
      const before = await replays(BALANCER, cookie, ALICE);
      expectBoth(before, UPSTREAMS);
      for (const v of before) expect(v.signedIn, `the copy, before logout, at ${v.upstream}`).toBe(true);

      const answeredBy = await logOut(page);
      expect(UPSTREAMS).toContain(answeredBy);
      const after = await replays(BALANCER, cookie, ALICE);
      expectBoth(after, UPSTREAMS);
      for (const v of after) {
        expect(v.signedIn, `the copy, after a logout at ${answeredBy}, at ${v.upstream}`).toBe(false);
      }
      await context.close();
    });

    test('"Log out everywhere" in one browser signs the other out on its next page load', async ({ browser }) => {
      const a = await signIn(browser, BALANCER, ALICE);
      const b = await signIn(browser, BALANCER, ALICE);
      const bob = await signIn(browser, BALANCER, BOB);
      const bCookie = await identityCookie(b.context, BALANCER);

      const answeredBy = await logOut(a.page, 'Log out everywhere');
      expect(UPSTREAMS).toContain(answeredBy);
      await b.page.reload();
      await expect(b.page.getByRole('button', { name: 'Log in' })).toBeVisible();
      await expect(greeting(b.page)).toHaveCount(0);
      const after = await replays(BALANCER, bCookie, ALICE);
      expectBoth(after, UPSTREAMS);
      for (const v of after) expect(v.signedIn, `browser B's cookie at ${v.upstream}`).toBe(false);
      // Another user's session is untouched.
      await bob.page.reload();
      await expect(greeting(bob.page)).toHaveText(`Hello, ${BOB.name}!`);
      for (const s of [a, b, bob]) await s.context.close();
    });

    test(`with ${store.name} not answering, pages render signed out in time and keep the cookie; then sign in again`, async ({ browser }) => {
      const { context } = await signIn(browser, BALANCER, ALICE);
      const cookie = await identityCookie(context, BALANCER);

      // Stopped, not killed: connections are accepted and never answered, the worst case.
      const resume = store.pause();
      let during: Visit[];
      try {
        during = await replays(BALANCER, cookie, ALICE);
      } finally {
        resume();
      }
      expectBoth(during, UPSTREAMS);
      for (const v of during) {
        expect(v.signedIn, `at ${v.upstream} with ${store.name} stopped`).toBe(false);
        expect(v.ms, `at ${v.upstream}: no hang past the store timeout`).toBeLessThan(3000);
        expect(v.clears, `at ${v.upstream}: the cookie is kept`).toBe(false);
      }

      // Back: the session written before it stopped signs in again, on both servers.
      await expect(async () => {
        const back = await replays(BALANCER, cookie, ALICE);
        expectBoth(back, UPSTREAMS);
        for (const v of back) expect(v.signedIn, `at ${v.upstream} with ${store.name} back`).toBe(true);
      }).toPass({ timeout: 15_000 });
      await context.close();
    });
  });
}

test.describe('the default cookie mode, two servers behind a balancer (release run)', () => {
  test.skip(!RELEASE, 'the release run starts the balanced servers (make release-e2e)');
  test.use({ baseURL: COOKIE_BALANCER_URL });

  test('logins cross servers; a copied cookie still signs in after logout (the documented limit)', async ({ browser }) => {
    const crossed: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await signIn(browser, COOKIE_BALANCER_URL, ALICE);
      expect(COOKIE_UPSTREAMS).toContain(s.login);
      expect(COOKIE_UPSTREAMS).toContain(s.callback);
      crossed.push(s.login !== s.callback);
      if (i < 2) await s.context.close();
      else {
        const cookie = await identityCookie(s.context, COOKIE_BALANCER_URL);
        await logOut(s.page);
        // Stateless: nothing on the server remembers the logout, so the copy still works.
        const after = await replays(COOKIE_BALANCER_URL, cookie, ALICE);
        expectBoth(after, COOKIE_UPSTREAMS);
        for (const v of after) expect(v.signedIn, `the copy after logout, at ${v.upstream}`).toBe(true);
        await s.context.close();
      }
    }
    expect(crossed, 'login POST and callback answered by different servers').toContain(true);
  });

  test('"Log out everywhere" is refused with 409 and changes nothing', async ({ browser }) => {
    const { context, page } = await signIn(browser, COOKIE_BALANCER_URL, ALICE);
    const cookie = await identityCookie(context, COOKIE_BALANCER_URL);
    // As the page's own form would post it (same origin), with the browser's cookies.
    const response = await context.request.post(`${COOKIE_BALANCER_URL}/api/auth/logout_everywhere`, {
      form: {},
      headers: { Origin: COOKIE_BALANCER_URL, Referer: `${COOKIE_BALANCER_URL}/` },
      maxRedirects: 0,
    });
    const body = await response.text();
    expect(response.status(), body).toBe(409);
    expect(body.length, 'an explanation').toBeGreaterThan(0);

    expect(await identityCookie(context, COOKIE_BALANCER_URL)).toBe(cookie);
    await page.reload();
    await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);

    // The button says why, and the visitor stays signed in.
    await hydrated(page);
    await page.getByRole('button', { name: 'Log out everywhere', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('needs sessions kept on the server');
    await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);
    await page.reload();
    await expect(greeting(page)).toHaveText(`Hello, ${ALICE.name}!`);
    const after = await replays(COOKIE_BALANCER_URL, cookie, ALICE);
    expectBoth(after, COOKIE_UPSTREAMS);
    for (const v of after) expect(v.signedIn, `at ${v.upstream}`).toBe(true);
    await context.close();
  });
});
