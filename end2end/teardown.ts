// After the run: the session files this run's servers wrote in the temporary folder (the
// SQLite files of the debug run's app and app-tokens and of make bench's app-sqlite, Redis's
// folder of the release run), and the release run's Postgres, stopped by its pid first. The
// servers are stopped right after; an unlinked file is no trouble to them.
import { rmSync } from 'node:fs';
import {
  BENCH_SQLITE_SESSIONS,
  POSTGRES_DIR,
  REDIS_DIR,
  SQLITE_SESSIONS,
  TOKENS_SESSIONS,
  sqliteFiles,
} from './playwright.config';
import { postmaster, resumePostgres } from './tests/helpers/postgres';

export default async function teardown(): Promise<void> {
  const sessionFiles = [SQLITE_SESSIONS, TOKENS_SESSIONS, BENCH_SQLITE_SESSIONS].flatMap(sqliteFiles);
  for (const file of sessionFiles) {
    rmSync(file, { force: true });
  }
  rmSync(REDIS_DIR, { recursive: true, force: true });
  await stopPostgres();
  rmSync(POSTGRES_DIR, { recursive: true, force: true });
}

/**
 * A fast shutdown (SIGINT: connections closed, shared memory given back), before Playwright
 * kills what it started; resumed first, should a test have left it stopped.
 */
async function stopPostgres(): Promise<void> {
  const pid = postmaster();
  const alive = () => {
    try {
      return pid !== undefined && process.kill(pid, 0);
    } catch {
      return false;
    }
  };
  if (pid === undefined || !alive()) return;
  resumePostgres(pid);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 10_000 && alive(); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
