import { readFileSync } from 'node:fs';
import { POSTGRES_PID_FILE } from '../../playwright.config';

/** The release run's postmaster (playwright.config.ts), or none (a debug run, or stopped). */
export function postmaster(): number | undefined {
  try {
    const pid = Number(readFileSync(POSTGRES_PID_FILE, 'utf8').split('\n')[0]);
    return pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The processes `pid` started: Postgres's, one a connection, each in a session of its own. */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Hangs Postgres as a stopped machine would: the postmaster, then every connection's process
 * (a signal to the postmaster's group would miss them), SIGSTOP. Connections are accepted by
 * the kernel and never answered, the worst case.
 */
export function pausePostgres(pid: number): void {
  process.kill(pid, 'SIGSTOP');
  for (const child of children(pid)) process.kill(child, 'SIGSTOP');
}

/** A process's state (`T` when stopped) and its parent, from /proc/PID/stat. */
function stat(pid: number): { state: string; parent: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, parent] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, parent: Number(parent) };
  } catch {
    return undefined;
  }
}

/**
 * Undoes pausePostgres, and resumes `runuser` (a root run's) too: it stops itself when its
 * child stops (as `su` does, for job control), and would never reap the postmaster otherwise.
 */
export function resumePostgres(pid: number): void {
  for (const child of children(pid)) process.kill(child, 'SIGCONT');
  process.kill(pid, 'SIGCONT');
  const parent = stat(pid)?.parent;
  if (parent !== undefined && parent > 1 && stat(parent)?.state === 'T') process.kill(parent, 'SIGCONT');
}
