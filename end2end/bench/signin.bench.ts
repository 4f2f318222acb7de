// Sign-in speed and size, measured the way Streamlit's were for comparison: the median of
// ROUNDS logins and logouts in headless chromium against the test provider.
// Run with `make bench` (a release build); prints a table, asserts nothing about speed.
import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { greeting, hydrated } from '../tests/helpers/app';
import { signInAtProvider } from '../tests/helpers/idp';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Resident memory of the configured app server, in MB (Linux). */
function serverMemoryMb(port: number): number {
  const pids = execFileSync('sh', ['-c', `ss -ltnpH 'sport = :${port}' | grep -o 'pid=[0-9]*' | cut -d= -f2`])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  const status = execFileSync('cat', [`/proc/${pids[0]}/status`]).toString();
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

test('sign-in timings and sizes', async ({ page, context }) => {
  test.setTimeout(ROUNDS * 15_000 + 30_000);
  const idleMb = serverMemoryMb(3210);
  const logins: number[] = [];
  const logouts: number[] = [];
  let cookieBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await page.goto('/');
    await hydrated(page);
    const started = performance.now();
    await page.getByRole('button', { name: 'Log in' }).click();
    await signInAtProvider(page, 'alice');
    await expect(greeting(page)).toHaveText('Hello, Alice Example!');
    logins.push(performance.now() - started);

    const identity = (await context.cookies()).find((cookie) => cookie.name === 'auth_user');
    cookieBytes = (identity?.name.length ?? 0) + (identity?.value.length ?? 0);

    await hydrated(page);
    const leaving = performance.now();
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    logouts.push(performance.now() - leaving);
  }
  const busyMb = serverMemoryMb(3210);
  const rows = [
    ['click "Log in" to "Hello, NAME!" (median ms, includes the provider form)', Math.round(median(logins))],
    ['click "Log out" to "Log in" (median ms)', Math.round(median(logouts))],
    [`server memory idle / after ${ROUNDS} logins (MB)`, `${idleMb} / ${busyMb}`],
    ['identity cookie, name + value (bytes)', cookieBytes],
  ];
  console.log(`\n${rows.map(([what, value]) => `| ${what} | ${value} |`).join('\n')}\n`);
});
