import { defineConfig } from '@playwright/test';

// Ports of their own, so a `make dev` server on :3000 never answers for the tests.
export const APP_PORT = 3210;
export const OIDC_PORT = 9210;
export const APP_URL = `http://127.0.0.1:${APP_PORT}`;
// The same server with no configuration at all: it signs in through its development provider.
export const DEV_APP_PORT = 3211;
export const DEV_APP_URL = `http://127.0.0.1:${DEV_APP_PORT}`;
export const ISSUER = `http://127.0.0.1:${OIDC_PORT}`;
process.env.OIDC_ISSUER = ISSUER;

// Debian's chromium; Playwright's own browser download is never used.
const chromium = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

/** Which build of the server to test: `debug`, or `release` (`make release-e2e`, `make bench`). */
const RELEASE = process.env.SERVER_PROFILE === 'release';

/** The server `cargo leptos build` made (the Makefile builds it first). */
function appServer(name: string, port: number, env: Record<string, string>) {
  // The developer's own AUTH_* variables must not configure the test servers.
  const unset = Object.fromEntries(
    Object.keys(process.env)
      .filter((key) => key.startsWith('AUTH_'))
      .map((key) => [key, '']),
  );
  return {
    name,
    command: `../target/${RELEASE ? 'release' : 'debug'}/server`,
    url: `http://127.0.0.1:${port}/`,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: '../target/site',
      LEPTOS_OUTPUT_NAME: 'leptos-auth',
      RUST_LOG: 'info',
      ...unset,
      ...env,
    },
    reuseExistingServer: false,
    stdout: 'pipe' as const,
  };
}

export default defineConfig({
  testDir: './tests',
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: APP_URL,
    browserName: 'chromium',
    launchOptions: chromium,
    trace: 'retain-on-failure',
  },
  webServer: [
    {
      name: 'oidc-provider',
      command: 'node oidc/provider.mjs',
      url: `${ISSUER}/.well-known/openid-configuration`,
      env: {
        OIDC_PORT: String(OIDC_PORT),
        OIDC_REDIRECT_URIS: `${APP_URL}/oauth2callback`,
        OIDC_POST_LOGOUT_REDIRECT_URIS: `${APP_URL}/`,
        // POST /__admin/rotate-key (tests/key-rotation.spec.ts).
        OIDC_ADMIN: '1',
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    appServer('app', APP_PORT, { AUTH_SECRETS_FILE: 'secrets.e2e.toml' }),
    // No secrets.toml in end2end/, and none named: nothing configured. (A release build
    // refuses to start so; `make release-e2e` runs no test that needs it.)
    ...(RELEASE ? [] : [appServer('app-unconfigured', DEV_APP_PORT, { AUTH_SECRETS_FILE: '' })]),
  ],
});
