import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Opens a real socket, writes `head`, then one byte every 100 ms; resolves with how long the server kept it open. */
async function trickle(port: number, head: string, byte: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  onTestFinished(() => void socket.destroy());
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const started = Date.now();
  socket.write(head);
  const timer = setInterval(() => socket.write(byte), 100);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  clearInterval(timer);
  return Date.now() - started;
}

/**
 * Issue 10, point 3: a body trickled a byte a second held its socket ~90 s although requestTimeout
 * was 10 s (Node checks request deadlines every 30 s by default).
 */
describe('issue 10: slow clients are cut off as configured, on a real socket', () => {
  it('a trickled body is closed within the request timeout plus the once-a-second check', async () => {
    server = await buildTestServer({ HTTP_REQUEST_TIMEOUT_MS: '1000' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    const held = await trickle(
      port,
      'POST /webhooks/mori HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
      'a',
    );
    expect(held).toBeGreaterThanOrEqual(900);
    expect(held).toBeLessThan(3500);
  });

  it('trickled headers are closed within half the request timeout plus the check', async () => {
    server = await buildTestServer({ HTTP_REQUEST_TIMEOUT_MS: '2000' });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    const held = await trickle(port, 'POST /webhooks/mori HTTP/1.1\r\nHost: x\r\n', 'X');
    expect(held).toBeLessThan(3500);
  });
});
