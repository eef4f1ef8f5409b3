import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { TEST_SECRET, testPrefix } from '../helpers/build-test-server.js';
import { startService } from '../helpers/service-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = join(import.meta.dirname, '../..');

/**
 * There is no Docker engine on CI, so this performs the Dockerfile's runtime steps by hand: a
 * production-only `npm ci --omit=dev` into a fresh folder holding only package.json and the lock
 * file, the compiled dist/ copied in, then `node dist/main.js` with NODE_ENV=production. It proves
 * the image's runtime needs no dev dependency and answers its HEALTHCHECK.
 */
describe("the container's steps, outside a container", () => {
  it(
    'installs production dependencies only, starts node dist/main.js and answers /healthz and /readyz',
    { timeout: 240_000 },
    async () => {
      const app = tempDir('mori-image-');
      cpSync(join(root, 'package.json'), join(app, 'package.json'));
      cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
      execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
        cwd: app,
        stdio: 'pipe',
        env: { ...process.env, NODE_ENV: 'production' },
      });
      expect(existsSync(join(app, 'node_modules/fastify'))).toBe(true);
      expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
      expect(existsSync(join(app, 'node_modules/testcontainers'))).toBe(false);
      cpSync(dirname(inject('builtMain')), join(app, 'dist'), { recursive: true });

      const service = await startService(
        {
          NODE_ENV: 'production',
          ROLE: 'api',
          REDIS_URL: inject('redisUrl'),
          REDIS_PREFIX: testPrefix(),
          MORI_WEBHOOK_SECRET: TEST_SECRET,
        },
        join(app, 'dist/main.js'),
      );
      try {
        expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
        // The same image serves the CLI the compose demo profile runs.
        const help = execFileSync(process.execPath, [join(app, 'dist/cli/main.js'), 'help'], { encoding: 'utf8' });
        expect(help).toContain('mock-mori');
      } finally {
        service.child.kill('SIGTERM');
      }
      expect(await service.exited).toBe(0);
    },
  );
});
