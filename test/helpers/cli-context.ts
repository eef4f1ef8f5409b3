import type { CliContext } from '../../src/cli/io.js';

/** A command-line context with the given arguments and environment, recording what it prints. */
export function cliContext(
  args: string[],
  env: Record<string, string>,
): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { args, env, out: (l) => out.push(l), err: (l) => err.push(l) };
  return { ctx, out, err };
}
