// `make bench`: the end-to-end servers (a release build: SERVER_PROFILE=release) and the
// bench's own, running bench/ instead of tests/: a release server on SQLite, one without
// `auth.install`, and Streamlit 1.67's sign-in on the same provider (when setup.sh bench has
// installed it in target/bench/streamlit-venv).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import config, {
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

/** The seed app with an [auth] table for the test provider, in a folder of its own. */
function streamlit() {
  const dir = join(tmpdir(), `leptos-auth-streamlit-${port(BENCH_STREAMLIT_URL)}`);
  mkdirSync(join(dir, '.streamlit'), { recursive: true });
  copyFileSync('bench/streamlit/app.py', join(dir, 'app.py'));
  writeFileSync(
    join(dir, '.streamlit', 'secrets.toml'),
    `[auth]
redirect_uri = "${BENCH_STREAMLIT_URL}/oauth2callback"
cookie_secret = "bench-only-streamlit-cookie-secret-0123456789"
client_id = "leptos-app"
client_secret = "leptos-app-secret"
server_metadata_url = "${ISSUER}/.well-known/openid-configuration"
client_kwargs = { prompt = "login" }
`,
  );
  const flags = [
    `--server.port ${port(BENCH_STREAMLIT_URL)}`,
    '--server.address 127.0.0.1',
    '--server.headless true',
    '--browser.gatherUsageStats false',
  ];
  return {
    name: 'streamlit',
    command: `${STREAMLIT} run app.py ${flags.join(' ')}`,
    cwd: dir,
    url: `${BENCH_STREAMLIT_URL}/_stcore/health`,
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
    ...(existsSync(STREAMLIT) ? [streamlit()] : []),
  ],
};
