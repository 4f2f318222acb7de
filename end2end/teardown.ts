// After the run: the session files this run's servers wrote in the temporary folder (the
// SQLite file of the debug run's app, Redis's folder of the release run). The servers are
// stopped right after; an unlinked file is no trouble to them.
import { rmSync } from 'node:fs';
import { REDIS_DIR, SQLITE_SESSIONS } from './playwright.config';

export default function teardown(): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(SQLITE_SESSIONS + suffix, { force: true });
  rmSync(REDIS_DIR, { recursive: true, force: true });
}
