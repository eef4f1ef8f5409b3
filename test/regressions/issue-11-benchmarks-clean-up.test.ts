import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Runs one benchmark script as `npm run bench` does, briefly, against today's build and with a
 * TMPDIR of its own, so what it leaves behind can be seen. REDIS_URL is unset: the script starts
 * its own redis-server through the service's launcher.
 */
function runBench(script: string, env: Record<string, string>) {
  const tmp = tempDir('bench-tmp-');
  return new Promise<{ code: number | null; stdout: string; stderr: string; tmp: string }>((resolve) => {
    const { REDIS_URL: _unused, ...inherited } = process.env;
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: { ...inherited, TMPDIR: tmp, BENCH_MAIN: inject('builtMain'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr, tmp }));
  });
}

/** The cells of the first data row of a console.table print. */
const firstRow = (table: string) =>
  table
    .split('\n')
    .find((line) => line.startsWith('│ 0'))!
    .split('│')
    .map((cell) => cell.trim().replaceAll("'", ''));

// Each run starts Redis and three receivers and puts load on them: on a busy two-core machine that
// takes longer than the suite's 30 s default.
const BENCH_TEST = { timeout: 120_000 };

describe('issue 11: the benchmarks run and leave nothing behind', () => {
  it('npm run bench measures the three receivers and removes its Redis and temporary folders', BENCH_TEST, async () => {
    const run = await runBench('bench/webhook-load.mjs', {
      BENCH_SECONDS: '1',
      BENCH_ROUNDS: '1',
      BENCH_WARMUP_SECONDS: '1',
      BENCH_CONNECTIONS: '2',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('service / bare Fastify (goal ≥ 0.5)');
    expect(run.stdout).toContain('receivers\' NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=256"');
    const [, queued, answered] = /events in the intake: (\d+); unique events answered 200: (\d+)/
      .exec(run.stdout)!
      .map(Number);
    // The storm adds one entry; at most one unique event per connection (2) may still be in flight at
    // the end of each of the two runs of unique events (the warm-up and the round).
    expect(queued).toBeGreaterThanOrEqual(answered! + 1);
    expect(queued).toBeLessThanOrEqual(answered! + 1 + 2 * 2);
    expect(readdirSync(run.tmp)).toEqual([]);
  });

  it(
    'npm run bench:pipeline delivers every event once and removes its Redis and sink folders',
    BENCH_TEST,
    async () => {
      const run = await runBench('bench/pipeline-throughput.mjs', { BENCH_EVENTS: '200', BENCH_CONCURRENCY: '4' });
      expect(run.code, run.stderr).toBe(0);
      const row = firstRow(run.stdout);
      expect(row.slice(2, 4), 'events, non-200').toEqual(['200', '0']);
      expect(row[8], 'lines in file').toBe('200');
      expect(readdirSync(run.tmp)).toEqual([]);
    },
  );
});
