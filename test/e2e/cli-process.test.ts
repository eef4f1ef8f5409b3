import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { startCaptureServer } from '../helpers/capture-server.js';
import getPort from 'get-port';

const cli = join(dirname(inject('builtMain')), 'cli/main.js');

/** Runs the built command-line tool as a real process; resolves with its exit code and output. */
function run(args: string[], opts: { env?: Record<string, string>; cwd?: string; closeStdoutEarly?: boolean } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { PATH: process.env.PATH ?? '', ...opts.env },
      cwd: opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
      if (opts.closeStdoutEarly) child.stdout.destroy();
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const COMMANDS = [
  'send-test-event',
  'mock-mori',
  'replay',
  'enqueue-order',
  'register-webhook',
  'webhooks',
  'recover',
  'status',
  'doctor',
  'dead-letters',
  'deliveries',
];

describe('the command-line tool as a person meets it', () => {
  it.each(COMMANDS)('%s --help prints its usage and exits 0', async (command) => {
    const { code, stdout } = await run([command, '--help']);
    expect(code).toBe(0);
    expect(stdout.startsWith(command)).toBe(true);
  });

  it("the README's command table and examples name every command the tool knows", async () => {
    const unknown = await run(['no-such-command']);
    const known = /Commands: ([a-z, -]+)\./.exec(unknown.stderr)![1]!.split(', ');
    expect(known).toEqual(expect.arrayContaining(COMMANDS));
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Command-line tool'), readme.indexOf('## Operations'));
    for (const command of known) {
      expect(section, `a table row for ${command}`).toMatch(new RegExp(`^\\| \`${command}[ \`]`, 'm'));
      expect(section, `an example of ${command}`).toContain(`node dist/cli/main.js ${command}`);
    }
  });

  it('deliveries without an order id says what is missing and exits 2', async () => {
    const { code, stderr } = await run(['deliveries']);
    expect(code).toBe(2);
    expect(stderr).toContain('deliveries: the order id is missing');
    expect(stderr).toContain('usage: deliveries <orderId> [--json]');
  });

  it('--version and -h exit 0; an unknown command says so and exits 2', async () => {
    expect(await run(['--version'])).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^mori-webhook \d+\.\d+\.\d+\n$/),
    });
    expect(await run(['-h'])).toMatchObject({ code: 0, stdout: expect.stringContaining('mori-webhook <command>') });
    const unknown = await run(['sendtestevent']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'sendtestevent'");
  });

  it('reads .env from the working directory, as the service does', async () => {
    const capture = await startCaptureServer();
    onTestFinished(() => capture.close());
    const dir = mkdtempSync(join(tmpdir(), 'mori-cli-env-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, '.env'), 'MORI_WEBHOOK_SECRET=whsec_from_dot_env_file\n');
    const { code, stderr } = await run(['send-test-event', '--url', capture.url], { cwd: dir });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(capture.requests).toHaveLength(1);
  });

  it('names the address and the reason when a request fails, not a bare "fetch failed"', async () => {
    const port = await getPort();
    const { code, stderr } = await run([
      'send-test-event',
      '--url',
      `http://127.0.0.1:${port}/webhooks/mori`,
      '--secret',
      'whsec_some_secret_x',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(`POST http://127.0.0.1:${port}/webhooks/mori failed`);
    expect(stderr).toMatch(/ECONNREFUSED/);
  });

  it('exits quietly when its reader closes the pipe early (status | head)', async () => {
    const { code, stderr } = await run(['--help'], { closeStdoutEarly: true });
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error/);
  });
});
