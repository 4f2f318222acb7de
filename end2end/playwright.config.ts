import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Free loopback ports, chosen once per run (the workers read them back from the environment),
 * so that two runs on one machine, or a `make dev` server, never collide.
 */
function freePorts(count: number): number[] {
  const script = `const net = require('node:net');
    const servers = Array.from({ length: ${count} }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, '127.0.0.1', ok)))).then(() => {
      console.log(servers.map((s) => s.address().port).join(','));
      servers.forEach((s) => s.close());
    });`;
  return execFileSync(process.execPath, ['-e', script]).toString().trim().split(',').map(Number);
}
process.env.E2E_PORTS ??= freePorts(6).join(',');
const [appPort, oidcPort, devAppPort, proxyPort, proxiedAppPort, minimalPort] =
  process.env.E2E_PORTS.split(',').map(Number);

export const APP_PORT = appPort;
export const OIDC_PORT = oidcPort;
export const APP_URL = `http://127.0.0.1:${APP_PORT}`;
// The same server with no configuration at all: it signs in through its development provider.
export const DEV_APP_PORT = devAppPort;
export const DEV_APP_URL = `http://127.0.0.1:${DEV_APP_PORT}`;
export const ISSUER = `http://127.0.0.1:${OIDC_PORT}`;
process.env.OIDC_ISSUER = ISSUER;
// examples/minimal, the smallest app on `auth`, unconfigured too (debug builds only).
export const MINIMAL_URL = `http://127.0.0.1:${minimalPort}`;
// Debian's nginx, with its default buffer sizes, in front of a server of its own.
export const PROXY_PORT = proxyPort;
export const PROXY_URL = `http://127.0.0.1:${PROXY_PORT}`;

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
export const RELEASE = process.env.SERVER_PROFILE === 'release';

/** The configured servers' settings: end2end/secrets.e2e.toml, pointed at this run's ports. */
function configured(origin: string): Record<string, string> {
  return {
    AUTH_SECRETS_FILE: 'secrets.e2e.toml',
    AUTH_REDIRECT_URI: `${origin}/oauth2callback`,
    AUTH_SERVER_METADATA_URL: `${ISSUER}/.well-known/openid-configuration`,
  };
}

/** nginx as Debian ships it (default buffers), in a folder of its own, in the foreground. */
function nginx() {
  const dir = join(tmpdir(), `leptos-auth-nginx-${PROXY_PORT}`);
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, temp), { recursive: true });
  }
  writeFileSync(join(dir, 'nginx.conf'), `
master_process off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${PROXY_PORT};
    location / {
      proxy_pass http://127.0.0.1:${proxiedAppPort};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`);
  return {
    name: 'nginx',
    command: `${process.env.NGINX ?? '/usr/sbin/nginx'} -p ${dir} -c ${dir}/nginx.conf -g 'daemon off;'`,
    url: `${PROXY_URL}/`,
    reuseExistingServer: false,
    stdout: 'pipe' as const,
  };
}

/** A server `cargo leptos build` made (the Makefile builds it first): `bin` of target/. */
function appServer(name: string, port: number, env: Record<string, string>, bin = 'server') {
  // The developer's own AUTH_* variables must not configure the test servers.
  const unset = Object.fromEntries(
    Object.keys(process.env)
      .filter((key) => key.startsWith('AUTH_'))
      .map((key) => [key, '']),
  );
  return {
    name,
    command: `../target/${RELEASE ? 'release' : 'debug'}/${bin}`,
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
        OIDC_REDIRECT_URIS: `${APP_URL}/oauth2callback,${PROXY_URL}/oauth2callback`,
        OIDC_POST_LOGOUT_REDIRECT_URIS: `${APP_URL}/,${PROXY_URL}/`,
        // POST /__admin/rotate-key (tests/key-rotation.spec.ts).
        OIDC_ADMIN: '1',
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    appServer('app', APP_PORT, configured(APP_URL)),
    // No secrets.toml in end2end/, and none named: nothing configured. (A release build
    // refuses to start so; `make release-e2e` runs no test that needs it.)
    ...(RELEASE ? [] : [appServer('app-unconfigured', DEV_APP_PORT, { AUTH_SECRETS_FILE: '' })]),
    // examples/minimal (tests/minimal.spec.ts): built in debug only, to keep `make test` short.
    ...(RELEASE
      ? []
      : [
          appServer(
            'minimal',
            minimalPort,
            { AUTH_SECRETS_FILE: '', LEPTOS_SITE_ROOT: '../target/site-minimal' },
            'minimal',
          ),
        ]),
    // Behind a reverse proxy, as deployed: the release build (tests/proxy.spec.ts).
    ...(RELEASE ? [appServer('app-proxied', proxiedAppPort, configured(PROXY_URL)), nginx()] : []),
  ],
});
