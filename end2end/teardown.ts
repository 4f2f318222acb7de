// After the run: the session files this run's servers wrote in the temporary folder (the
// SQLite files of the debug run's app and app-tokens, Redis's folder of the release run). The
// servers are stopped right after; an unlinked file is no trouble to them.
import { rmSync } from 'node:fs';
import { REDIS_DIR, SQLITE_SESSIONS, TOKENS_SESSIONS, sqliteFiles } from './playwright.config';

export default function teardown(): void {
  for (const file of [...sqliteFiles(SQLITE_SESSIONS), ...sqliteFiles(TOKENS_SESSIONS)]) {
    rmSync(file, { force: true });
  }
  rmSync(REDIS_DIR, { recursive: true, force: true });
}
