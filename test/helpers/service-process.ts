import { spawn, type ChildProcess } from 'node:child_process';
import { inject } from 'vitest';
import { eventually } from './eventually.js';
import getPort from 'get-port';

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process printed, stdout and stderr. */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** Runs the built service (`node <build>/main.js`) as a real process and waits for /healthz. */
export async function startService(
  env: Record<string, string>,
  main = inject('builtMain'),
  cwd?: string,
): Promise<ServiceProcess> {
  const port = await getPort();
  let text = '';
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  child.stdout.on('data', (c) => (text += c));
  child.stderr.on('data', (c) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${text}`);
      return (await fetch(`${url}/healthz`)).ok;
    },
    { timeoutMs: 20_000, what: 'the service to answer /healthz' },
  );
  return { child, url, output: () => text, exited };
}
