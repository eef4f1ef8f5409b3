import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { eventually } from '../helpers/eventually.js';

const ROOT = join(import.meta.dirname, '../..');

/** True while the process exists and is not a zombie (read from /proc). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `pid`, read from /proc, with its command line. */
function descendants(pid: number): { pid: number; cmd: string }[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we read.
    }
  }
  const found: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${c}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        // gone already
      }
      found.push({ pid: c, cmd });
      walk(c);
    }
  };
  walk(pid);
  return found;
}

/**
 * Issue 10, point 9: a supervisor that runs `npm start` and stops it with SIGTERM (systemd, a
 * process manager) signals npm. npm passes the signal to the shell it ran the script in; `sh -c`
 * died of it and left node, and node's embedded redis-server, running. The start script now
 * `exec`s node, so the signal reaches node, which shuts down and stops its redis-server.
 *
 * The service runs in a network namespace of its own (`unshare -n`, util-linux; `ip` from iproute2
 * brings its loopback up): the embedded Redis has a fixed port (6390), and there it cannot meet
 * another test's or another program's Redis. docs/decisions.md, "Signals under npm start".
 */
describe('issue 10: npm start under a supervisor', () => {
  it('SIGTERM to the npm process stops node and the embedded redis-server', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'npm-start-'));
    onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
    // The project's own start script, run by npm against the test build.
    writeFileSync(join(cwd, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    symlinkSync(dirname(inject('builtMain')), join(cwd, 'dist'));
    expect(existsSync(join(cwd, 'dist/main.js'))).toBe(true);

    let output = '';
    const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec npm start'], {
      cwd,
      env: {
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? cwd,
        PORT: '8080',
        LOG_LEVEL: 'info',
        MORI_API_TOKEN: 'token',
        MORI_API_BASE_URL: 'http://127.0.0.1:9',
        MORI_WEBHOOK_SECRET: 'whsec_npm_start_test',
        SHUTDOWN_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const pid = child.pid!;
    // Whatever this test started goes, even where the signal did not reach it.
    const started = new Set([pid]);
    onTestFinished(() => {
      for (const p of [...started, ...descendants(pid).map((d) => d.pid)]) if (alive(p)) process.kill(p, 'SIGKILL');
    });

    await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
        return output.includes('mori-webhook-receiver started');
      },
      { timeoutMs: 30_000, what: 'the service to start' },
    );
    expect(output).toContain('started a local redis-server');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('npm');
    const tree = descendants(pid);
    for (const p of tree) started.add(p.pid);
    const node = tree.find((p) => p.cmd.includes('dist/main.js'));
    const redis = tree.find((p) => p.cmd.startsWith('redis-server'));
    expect(node, JSON.stringify(tree)).toBeDefined();
    expect(redis, JSON.stringify(tree)).toBeDefined();

    process.kill(pid, 'SIGTERM');
    await eventually(() => !alive(node!.pid) && !alive(redis!.pid), {
      timeoutMs: 15_000,
      what: 'node and redis-server to be gone after SIGTERM to npm',
    });
    await exited;
    expect(output).toContain('shut down');
  });
});
