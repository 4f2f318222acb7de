// After the run: the session files this run's servers wrote in the temporary folder (the
// SQLite files of the debug run's app and app-tokens and of make bench's app-sqlite, Redis's
// folder of the release run). The servers are stopped right after; an unlinked file is no
// trouble to them.
import { rmSync } from 'node:fs';
import { BENCH_SQLITE_SESSIONS, REDIS_DIR, SQLITE_SESSIONS, TOKENS_SESSIONS, sqliteFiles } from './playwright.config';

export default function teardown(): void {
  const sessionFiles = [SQLITE_SESSIONS, TOKENS_SESSIONS, BENCH_SQLITE_SESSIONS].flatMap(sqliteFiles);
  for (const file of sessionFiles) {
    rmSync(file, { force: true });
  }
  rmSync(REDIS_DIR, { recursive: true, force: true });
}
