import { parseEnv, type Env } from '../config.js';
import { createMoriClient, type MoriClient } from '../mori/mori-client.js';
import { UsageError } from './io.js';

/** The MORI client a command uses, from the same environment as the service; the token is required. */
export function moriForCli(source: NodeJS.ProcessEnv): { env: Env; mori: MoriClient; token: string } {
  const env = parseEnv(source);
  if (!env.MORI_API_TOKEN) throw new UsageError('MORI_API_TOKEN is not set');
  const mori = createMoriClient({
    baseUrl: env.MORI_API_BASE_URL,
    token: env.MORI_API_TOKEN,
    timeoutMs: env.MORI_TIMEOUT_MS,
  });
  return { env, mori, token: env.MORI_API_TOKEN };
}
