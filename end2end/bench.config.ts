// `make bench`: the end-to-end servers (a release build: SERVER_PROFILE=release) and the
// bench's own, running bench/ instead of tests/: a release server on SQLite, one without
// `auth.install`, and Streamlit 1.67's sign-in on the same provider (when setup.sh bench has
// installed it in target/bench/streamlit-venv); and the provider far away: a second test
// provider behind bench/delay-proxy.mjs (40 ms each way for the servers' requests), with this
// app, the app on the tokens client and Streamlit signing in there.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import config, {
  BENCH_FAR_DELAY_MS,
  BENCH_FAR_ISSUER,
  BENCH_FAR_OIDC_PORT,
  BENCH_FAR_STREAMLIT_URL,
  BENCH_FAR_TOKENS_SESSIONS,
  BENCH_FAR_TOKENS_URL,
  BENCH_FAR_URL,
  BENCH_SQLITE_SESSIONS,
  BENCH_SQLITE_URL,
  BENCH_STREAMLIT,
  BENCH_STREAMLIT_URL,
  BENCH_WITHOUT_AUTH_URL,
  ISSUER,
  appServer,
  configured,
} from './playwright.config';

const port = (url: string) => Number(new URL(url).port);

const STREAMLIT = resolve(BENCH_STREAMLIT);

/** The seed app at `url` with an [auth] table for the test provider at `issuer`, in a folder
 * of its own. */
function streamlit(name: string, url: string, issuer: string) {
  const dir = join(tmpdir(), `leptos-auth-streamlit-${port(url)}`);
  mkdirSync(join(dir, '.streamlit'), { recursive: true });
  copyFileSync('bench/streamlit/app.py', join(dir, 'app.py'));
  writeFileSync(
    join(dir, '.streamlit', 'secrets.toml'),
    `[auth]
redirect_uri = "${url}/oauth2callback"
cookie_secret = "bench-only-streamlit-cookie-secret-0123456789"
client_id = "leptos-app"
client_secret = "leptos-app-secret"
server_metadata_url = "${issuer}/.well-known/openid-configuration"
client_kwargs = { prompt = "login" }
`,
  );
  const flags = [
    `--server.port ${port(url)}`,
    '--server.address 127.0.0.1',
    '--server.headless true',
    '--browser.gatherUsageStats false',
  ];
  return {
    name,
    command: `${STREAMLIT} run app.py ${flags.join(' ')}`,
    cwd: dir,
    url: `${url}/_stcore/health`,
    reuseExistingServer: false,
    stdout: 'ignore' as const,
  };
}

export default {
  ...config,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  retries: 0,
  webServer: [
    ...(Array.isArray(config.webServer) ? config.webServer : []),
    appServer('app-sqlite', port(BENCH_SQLITE_URL), {
      ...configured(BENCH_SQLITE_URL),
      AUTH_SESSION_STORE: `sqlite:${BENCH_SQLITE_SESSIONS}`,
    }),
    appServer('app-without-auth', port(BENCH_WITHOUT_AUTH_URL), {
      ...configured(BENCH_WITHOUT_AUTH_URL),
      BENCH_WITHOUT_AUTH: '1',
    }),
    ...(existsSync(STREAMLIT) ? [streamlit('streamlit', BENCH_STREAMLIT_URL, ISSUER)] : []),
    // The provider far away: the provider itself, then the proxy in front of it (its
    // discovery document, through the proxy, is the readiness check), then who signs in there.
    {
      name: 'far-provider',
      command: 'node oidc/provider.mjs',
      url: `http://127.0.0.1:${BENCH_FAR_OIDC_PORT}/jwks`,
      env: {
        OIDC_PORT: String(BENCH_FAR_OIDC_PORT),
        OIDC_PUBLIC_URL: BENCH_FAR_ISSUER,
        OIDC_REDIRECT_URIS: [BENCH_FAR_URL, BENCH_FAR_STREAMLIT_URL].map((origin) => `${origin}/oauth2callback`).join(','),
        OIDC_POST_LOGOUT_REDIRECT_URIS: [`${BENCH_FAR_URL}/`, `${BENCH_FAR_STREAMLIT_URL}/`, `${BENCH_FAR_STREAMLIT_URL}/oauth2callback`].join(','),
        OIDC_TOKENS_REDIRECT_URIS: `${BENCH_FAR_TOKENS_URL}/oauth2callback`,
        OIDC_TOKENS_POST_LOGOUT_REDIRECT_URIS: `${BENCH_FAR_TOKENS_URL}/`,
        OIDC_TOKENS_BACKCHANNEL_LOGOUT_URI: `${BENCH_FAR_TOKENS_URL}/oauth2/backchannel-logout`,
        // With secrets.tokens.e2e.toml's margin (10 s, at most half the life): due after 7 s.
        OIDC_TOKENS_ACCESS_TTL: '14',
        OIDC_ADMIN: '1',
      },
      reuseExistingServer: false,
      stdout: 'ignore' as const,
    },
    {
      name: 'delay-proxy',
      command: 'node bench/delay-proxy.mjs',
      url: `${BENCH_FAR_ISSUER}/.well-known/openid-configuration`,
      env: {
        DELAY_PORT: String(port(BENCH_FAR_ISSUER)),
        DELAY_TARGET: `http://127.0.0.1:${BENCH_FAR_OIDC_PORT}`,
        DELAY_MS: String(BENCH_FAR_DELAY_MS),
      },
      reuseExistingServer: false,
      stdout: 'ignore' as const,
    },
    appServer('app-far', port(BENCH_FAR_URL), configured(BENCH_FAR_URL, 'secrets.e2e.toml', BENCH_FAR_ISSUER)),
    appServer('app-far-tokens', port(BENCH_FAR_TOKENS_URL), {
      ...configured(BENCH_FAR_TOKENS_URL, 'secrets.tokens.e2e.toml', BENCH_FAR_ISSUER),
      AUTH_SESSION_STORE: `sqlite:${BENCH_FAR_TOKENS_SESSIONS}`,
    }),
    ...(existsSync(STREAMLIT) ? [streamlit('streamlit-far', BENCH_FAR_STREAMLIT_URL, BENCH_FAR_ISSUER)] : []),
  ],
};
