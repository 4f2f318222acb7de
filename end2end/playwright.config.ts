import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
const firstLoad = process.env.E2E_PORTS === undefined; // the runner, before the workers
process.env.E2E_PORTS ??= freePorts(27).join(',');
const [
  appPort,
  oidcPort,
  devAppPort,
  proxyPort,
  proxiedAppPort,
  minimalPort,
  redisPort,
  storeBalancerPort,
  storeAPort,
  storeBPort,
  cookieBalancerPort,
  cookieAPort,
  cookieBPort,
  tokensPort,
  benchSqlitePort,
  benchWithoutAuthPort,
  benchStreamlitPort,
  templateAppPort,
  farOidcPort,
  farProviderPort,
  benchFarPort,
  benchFarTokensPort,
  benchFarStreamlitPort,
  postgresPort,
  postgresBalancerPort,
  postgresAPort,
  postgresBPort,
] = process.env.E2E_PORTS.split(',').map(Number);

export const APP_PORT = appPort;
export const OIDC_PORT = oidcPort;
export const APP_URL = `http://127.0.0.1:${APP_PORT}`;
// The same server with no configuration at all: it signs in through its development provider.
export const DEV_APP_PORT = devAppPort;
export const DEV_APP_URL = `http://127.0.0.1:${DEV_APP_PORT}`;
export const ISSUER = `http://127.0.0.1:${OIDC_PORT}`;
process.env.OIDC_ISSUER = ISSUER;
// examples/minimal, the smallest app on leptos-login, and a new app made from the start
// template (scripts/template.sh build): both unconfigured, both debug builds only.
export const MINIMAL_URL = `http://127.0.0.1:${minimalPort}`;
export const TEMPLATE_APP_URL = `http://127.0.0.1:${templateAppPort}`;
// Debian's nginx, with its default buffer sizes, in front of a server of its own.
export const PROXY_PORT = proxyPort;
export const PROXY_URL = `http://127.0.0.1:${PROXY_PORT}`;

// Server-side sessions (tests/sessions.spec.ts). The debug run's `app` keeps them in an SQLite
// file of this run's own (named after its port, so two runs never share one).
export const SQLITE_SESSIONS = join(tmpdir(), `leptos-auth-sessions-${appPort}.sqlite`);
/** Every file an SQLite session store may leave beside `path`. */
export const sqliteFiles = (path: string) => ['', '-wal', '-shm', '-journal'].map((suffix) => path + suffix);
if (firstLoad) {
  // An earlier run's, should one have had the same port.
  for (const file of sqliteFiles(SQLITE_SESSIONS)) rmSync(file, { force: true });
}
// Tokens kept on the server, refreshed, logout at the provider (tests/tokens.spec.ts, debug run):
// a server of its own on the provider's second client (secrets.tokens.e2e.toml), its sessions
// (and so the tokens) in an SQLite file of this run's own.
export const TOKENS_URL = `http://127.0.0.1:${tokensPort}`;
export const TOKENS_SESSIONS = join(tmpdir(), `leptos-auth-tokens-${tokensPort}.sqlite`);
/** The provider's access tokens for that client live this long (seconds); its margin is 10 s. */
export const TOKENS_ACCESS_TTL = 20;
if (firstLoad) {
  for (const file of sqliteFiles(TOKENS_SESSIONS)) rmSync(file, { force: true });
}
// The release run: Debian's Redis on a free port, nothing kept on disk, and two servers on it
// behind nginx as a round-robin load balancer; beside them two servers in the default
// (stateless cookie) mode behind a second balancer. Every balancer response names the server
// that answered in `X-Upstream`.
export const REDIS_PORT = redisPort;
export const REDIS_DIR = join(tmpdir(), `leptos-auth-redis-${redisPort}`);
export const REDIS_PID_FILE = join(REDIS_DIR, 'redis.pid');
export const STORE_BALANCER_URL = `http://127.0.0.1:${storeBalancerPort}`;
export const STORE_UPSTREAMS = [storeAPort, storeBPort].map((port) => `127.0.0.1:${port}`);
export const COOKIE_BALANCER_URL = `http://127.0.0.1:${cookieBalancerPort}`;
export const COOKIE_UPSTREAMS = [cookieAPort, cookieBPort].map((port) => `127.0.0.1:${port}`);
// The same two servers again on Debian's Postgres (one for the run, in a temporary folder of
// its own, nothing synced to disk) behind a third balancer.
export const POSTGRES_PORT = postgresPort;
export const POSTGRES_DIR = join(tmpdir(), `leptos-auth-postgres-${postgresPort}`);
/** The postmaster's pid, first line of the file it keeps in its data folder. */
export const POSTGRES_PID_FILE = join(POSTGRES_DIR, 'data', 'postmaster.pid');
const POSTGRES_USER = 'leptos';
const POSTGRES_PASSWORD = 'leptos-e2e-password';
/** The two Postgres servers' `session_store` (and the memory bench's, make bench). */
export const POSTGRES_SESSION_STORE = `postgres://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${postgresPort}/postgres?sslmode=disable`;
export const POSTGRES_BALANCER_URL = `http://127.0.0.1:${postgresBalancerPort}`;
export const POSTGRES_UPSTREAMS = [postgresAPort, postgresBPort].map((port) => `127.0.0.1:${port}`);

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

// `make bench` (bench.config.ts) adds two release servers: one keeping sessions in SQLite, and
// one serving the same pages without `auth.install` (BENCH_WITHOUT_AUTH=1); and Streamlit's
// sign-in on the same provider, to measure against.
export const BENCH_SQLITE_URL = `http://127.0.0.1:${benchSqlitePort}`;
export const BENCH_SQLITE_SESSIONS = join(tmpdir(), `leptos-auth-bench-${benchSqlitePort}.sqlite`);
export const BENCH_WITHOUT_AUTH_URL = `http://127.0.0.1:${benchWithoutAuthPort}`;
export const BENCH_STREAMLIT_URL = `http://127.0.0.1:${benchStreamlitPort}`;
/** Streamlit, as `setup.sh bench` installs it (from end2end/, where Playwright runs). */
export const BENCH_STREAMLIT = '../target/bench/streamlit-venv/bin/streamlit';
if (firstLoad) {
  for (const file of sqliteFiles(BENCH_SQLITE_SESSIONS)) rmSync(file, { force: true });
}
// The provider far away (make bench): a second test provider, reached only through
// bench/delay-proxy.mjs, which holds the servers' requests to it 40 ms each way; its issuer
// is the proxy's address. This app (cookie mode), the app on the tokens client (refresh,
// revocation, logout at the provider) and Streamlit sign in there.
export const BENCH_FAR_OIDC_PORT = farOidcPort;
/** What the proxy adds each way to the servers' requests to the far provider (ms). */
export const BENCH_FAR_DELAY_MS = 40;
export const BENCH_FAR_ISSUER = `http://127.0.0.1:${farProviderPort}`;
export const BENCH_FAR_URL = `http://127.0.0.1:${benchFarPort}`;
export const BENCH_FAR_TOKENS_URL = `http://127.0.0.1:${benchFarTokensPort}`;
export const BENCH_FAR_TOKENS_SESSIONS = join(tmpdir(), `leptos-auth-bench-far-${benchFarTokensPort}.sqlite`);
export const BENCH_FAR_STREAMLIT_URL = `http://127.0.0.1:${benchFarStreamlitPort}`;
if (firstLoad) {
  for (const file of sqliteFiles(BENCH_FAR_TOKENS_SESSIONS)) rmSync(file, { force: true });
}

/** Which build of the server to test: `debug`, or `release` (`make release-e2e`, `make bench`). */
export const RELEASE = process.env.SERVER_PROFILE === 'release';

/** The configured servers' settings: end2end/secrets.e2e.toml, pointed at this run's ports. */
export function configured(origin: string, secrets = 'secrets.e2e.toml', issuer = ISSUER): Record<string, string> {
  return {
    AUTH_SECRETS_FILE: secrets,
    AUTH_REDIRECT_URI: `${origin}/oauth2callback`,
    AUTH_SERVER_METADATA_URL: `${issuer}/.well-known/openid-configuration`,
  };
}

/** Proxies to `upstream`, saying which server answered (`X-Upstream`). */
function balancer(port: number, upstream: string): string {
  return `
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://${upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      add_header X-Upstream $upstream_addr always;
    }
  }`;
}

/**
 * nginx as Debian ships it (default buffers), in a folder of its own, in the foreground: the
 * reverse proxy of tests/proxy.spec.ts, and the two round-robin balancers of
 * tests/sessions.spec.ts.
 */
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
  upstream store_servers {
    server 127.0.0.1:${storeAPort};
    server 127.0.0.1:${storeBPort};
  }
  upstream cookie_servers {
    server 127.0.0.1:${cookieAPort};
    server 127.0.0.1:${cookieBPort};
  }
  upstream postgres_servers {
    server 127.0.0.1:${postgresAPort};
    server 127.0.0.1:${postgresBPort};
  }${balancer(storeBalancerPort, 'store_servers')}${balancer(cookieBalancerPort, 'cookie_servers')}${balancer(postgresBalancerPort, 'postgres_servers')}
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

/** Debian's Redis in the foreground on REDIS_PORT, loopback only, writing nothing to disk. */
function redis() {
  mkdirSync(REDIS_DIR, { recursive: true });
  const args = [
    `--port ${REDIS_PORT}`,
    '--bind 127.0.0.1',
    "--save ''",
    '--appendonly no',
    `--dir ${REDIS_DIR}`,
    // tests/sessions.spec.ts stops and resumes it (SIGSTOP, SIGCONT) by this pid.
    `--pidfile ${REDIS_PID_FILE}`,
    "--logfile ''",
  ];
  return {
    name: 'redis',
    command: `${process.env.REDIS_SERVER ?? '/usr/bin/redis-server'} ${args.join(' ')}`,
    port: REDIS_PORT,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
  };
}

/** The newest of Debian's Postgres versions (/usr/lib/postgresql/N/bin), or POSTGRES_BIN_DIR. */
function postgresBin(): string {
  if (process.env.POSTGRES_BIN_DIR) return process.env.POSTGRES_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'postgres')))
        .map(Number)
        .sort((a, b) => b - a)
    : [];
  if (versions.length === 0) throw new Error('Postgres is not installed (scripts/setup.sh test installs it)');
  return join(root, String(versions[0]), 'bin');
}

/**
 * Debian's Postgres in the foreground on POSTGRES_PORT, loopback only: initdb into
 * POSTGRES_DIR first, then the server, as the postgres user when the run is root's (Postgres
 * refuses root). Its pid is in POSTGRES_PID_FILE; teardown.ts stops it by that pid.
 */
function postgres() {
  const bin = postgresBin();
  const root = process.getuid?.() === 0;
  if (firstLoad) {
    rmSync(POSTGRES_DIR, { recursive: true, force: true });
    mkdirSync(POSTGRES_DIR, { recursive: true });
    writeFileSync(join(POSTGRES_DIR, 'password'), POSTGRES_PASSWORD);
    if (root) execFileSync('chown', ['-R', 'postgres:postgres', POSTGRES_DIR]);
  }
  const initdb = [
    `${bin}/initdb -D ${POSTGRES_DIR}/data -U ${POSTGRES_USER} --pwfile=${POSTGRES_DIR}/password`,
    '--auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync >/dev/null',
  ].join(' ');
  const server = [
    `exec ${bin}/postgres -D ${POSTGRES_DIR}/data -k ${POSTGRES_DIR} -h 127.0.0.1 -p ${POSTGRES_PORT}`,
    // Nothing of this run needs to survive a crash of the machine.
    '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
  ].join(' ');
  const script = `${initdb} && ${server}`;
  return {
    name: 'postgres',
    command: root ? `runuser -u postgres -- sh -c '${script}'` : `sh -c '${script}'`,
    port: POSTGRES_PORT,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
  };
}

/** A server `cargo leptos build` made (the Makefile builds it first): `bin` of target/. */
export function appServer(name: string, port: number, env: Record<string, string>, bin = 'server') {
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

/** Every origin a login may return to (the test provider's client registration). */
const ORIGINS = [
  APP_URL,
  PROXY_URL,
  STORE_BALANCER_URL,
  COOKIE_BALANCER_URL,
  POSTGRES_BALANCER_URL,
  BENCH_STREAMLIT_URL,
];

export default defineConfig({
  testDir: './tests',
  globalTeardown: './teardown.ts',
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
        OIDC_REDIRECT_URIS: ORIGINS.map((origin) => `${origin}/oauth2callback`).join(','),
        // Streamlit comes back from the provider's logout to its redirect_uri (make bench).
        OIDC_POST_LOGOUT_REDIRECT_URIS: [...ORIGINS.map((origin) => `${origin}/`), `${BENCH_STREAMLIT_URL}/oauth2callback`].join(','),
        // The second client, leptos-tokens (tests/tokens.spec.ts).
        OIDC_TOKENS_REDIRECT_URIS: `${TOKENS_URL}/oauth2callback`,
        OIDC_TOKENS_POST_LOGOUT_REDIRECT_URIS: `${TOKENS_URL}/`,
        OIDC_TOKENS_BACKCHANNEL_LOGOUT_URI: `${TOKENS_URL}/oauth2/backchannel-logout`,
        OIDC_TOKENS_ACCESS_TTL: String(TOKENS_ACCESS_TTL),
        // POST /__admin/rotate-key (tests/key-rotation.spec.ts), the issued tokens
        // (tests/tokens.spec.ts).
        OIDC_ADMIN: '1',
      },
      reuseExistingServer: false,
      stdout: 'ignore',
    },
    // Sessions in SQLite in the debug run (tests/sessions.spec.ts); every other spec runs on it
    // too. The release run's keeps the default, the identity cookie alone.
    appServer('app', APP_PORT, {
      ...configured(APP_URL),
      ...(RELEASE ? {} : { AUTH_SESSION_STORE: `sqlite:${SQLITE_SESSIONS}` }),
    }),
    // No secrets.toml in end2end/, and none named: nothing configured. (A release build
    // refuses to start so; `make release-e2e` runs no test that needs it.)
    ...(RELEASE ? [] : [appServer('app-unconfigured', DEV_APP_PORT, { AUTH_SECRETS_FILE: '' })]),
    // Tokens (tests/tokens.spec.ts): the debug run only.
    ...(RELEASE
      ? []
      : [
          appServer('app-tokens', tokensPort, {
            ...configured(TOKENS_URL, 'secrets.tokens.e2e.toml'),
            AUTH_SESSION_STORE: `sqlite:${TOKENS_SESSIONS}`,
          }),
        ]),
    // examples/minimal and the template's new app (tests/minimal.spec.ts), each its own
    // workspace with its own site: built in debug only, to keep `make test` short. The two
    // servers have one name; scripts/template.sh keeps the example's apart.
    ...(RELEASE
      ? []
      : [
          appServer(
            'minimal',
            minimalPort,
            {
              AUTH_SECRETS_FILE: '',
              LEPTOS_SITE_ROOT: '../examples/minimal/target/site',
              LEPTOS_OUTPUT_NAME: 'minimal',
            },
            'minimal-example',
          ),
          appServer(
            'template-app',
            templateAppPort,
            {
              AUTH_SECRETS_FILE: '',
              LEPTOS_SITE_ROOT: '../target/template/minimal/target/site',
              LEPTOS_OUTPUT_NAME: 'minimal',
            },
            'minimal',
          ),
        ]),
    // Behind a reverse proxy, as deployed: the release build (tests/proxy.spec.ts).
    ...(RELEASE ? [appServer('app-proxied', proxiedAppPort, configured(PROXY_URL))] : []),
    // Sessions shared by two servers through Redis, two through Postgres, and two in the
    // default mode, each pair behind one balancer (tests/sessions.spec.ts); release builds only.
    ...(RELEASE
      ? [
          redis(),
          ...[storeAPort, storeBPort].map((port, i) =>
            appServer(`app-redis-${'ab'[i]}`, port, {
              ...configured(STORE_BALANCER_URL),
              AUTH_SESSION_STORE: `redis://127.0.0.1:${REDIS_PORT}/0`,
            }),
          ),
          postgres(),
          ...[postgresAPort, postgresBPort].map((port, i) =>
            appServer(`app-postgres-${'ab'[i]}`, port, {
              ...configured(POSTGRES_BALANCER_URL),
              AUTH_SESSION_STORE: POSTGRES_SESSION_STORE,
            }),
          ),
          ...[cookieAPort, cookieBPort].map((port, i) =>
            appServer(`app-cookie-${'ab'[i]}`, port, {
              ...configured(COOKIE_BALANCER_URL),
              AUTH_SESSION_STORE: 'cookie',
            }),
          ),
          nginx(),
        ]
      : []),
  ],
});
