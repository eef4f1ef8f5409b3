import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { MockMoriOptions } from '../../src/cli/mock-mori.js';
import { createMoriClient } from '../../src/mori/mori-client.js';
import { createArchiveSink } from '../../src/sinks/archive-sink.js';
import { sinkConfigSchema } from '../../src/sinks/sink-config.js';
import { SinkError } from '../../src/sinks/sink.js';
import { buildEnvelope } from '../../src/worker/envelope.js';
import { startFakeMori } from '../helpers/fake-mori.js';
import { rejectionOf } from '../helpers/rejection-of.js';

const FILE_BYTES = 256 * 1024;

async function setUp(options: Partial<MockMoriOptions> = {}) {
  const mori = await startFakeMori({ token: 'sk_test_arc', fileBytes: FILE_BYTES, ...options });
  const client = createMoriClient({ baseUrl: mori.url, token: 'sk_test_arc', timeoutMs: 5000 });
  onTestFinished(() => client.close());
  const dir = mkdtempSync(join(tmpdir(), 'mori-archive-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  let bytes = 0;
  const config = sinkConfigSchema.parse({ type: 'archive', name: 'vault', dir, concurrency: 2 });
  if (config.type !== 'archive') throw new Error('unreachable');
  const sink = createArchiveSink(config, {
    downloads: (id) => client.getDownloadLinks(id),
    onBytes: (n) => (bytes += n),
  });
  onTestFinished(() => sink.close());
  const order = await client.getOrder(String(mori.createOrder('watermarkEmbed', { files: 3 }).orderId), 'lookup');
  const envelope = buildEnvelope({
    deliveryId: 'dlv_0123456789abcdef0123456789abcdef',
    order,
    event: {
      eventId: 'e',
      eventType: 'order.watermarkEmbed.completed',
      occurredAt: null,
      receivedAt: new Date().toISOString(),
    },
  });
  return { mori, dir, sink, order, envelope, bytes: () => bytes, folder: join(dir, String(order.orderId)) };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('archive sink', () => {
  it('stores every output file and the order JSON, with a manifest of names, sizes and SHA-256', async () => {
    const { sink, envelope, folder, order, bytes } = await setUp();
    await sink.deliver(envelope);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      deliveryId: envelope.id,
      orderId: order.orderId,
      type: 'watermarkEmbed',
      status: 'complete',
    });
    expect(manifest.files).toHaveLength(3);
    for (const f of manifest.files) {
      expect(f.bytes).toBe(FILE_BYTES);
      expect(f.sha256).toBe(sha256(join(folder, f.name)));
      expect(f.name).toMatch(new RegExp(`^${f.fileId}-image(-\\d)?\\.png$`));
    }
    expect(JSON.parse(readFileSync(join(folder, 'order.json'), 'utf8'))).toEqual(order);
    expect(manifest.order.sha256).toBe(sha256(join(folder, 'order.json')));
    expect(bytes()).toBe(3 * FILE_BYTES);
    expect(readdirSync(folder).sort()).toEqual(
      [...manifest.files.map((f: { name: string }) => f.name), 'manifest.json', 'order.json'].sort(),
    );
  });

  it('survives a download cut in the middle: no torn file is kept, and the retry completes with fresh links', async () => {
    const { sink, envelope, folder, mori } = await setUp({ cutDownloads: 1 });
    const err = await rejectionOf(sink.deliver(envelope), SinkError);
    expect(err.message).toContain('broke off');
    expect(readdirSync(folder).filter((f) => f.startsWith('.tmp-') || f === 'manifest.json')).toEqual([]);
    const linkCallsBefore = mori.stats.requests;
    await sink.deliver(envelope);
    expect(mori.stats.requests).toBe(linkCallsBefore + 1);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
    for (const f of manifest.files) expect(readFileSync(join(folder, f.name)).length).toBe(FILE_BYTES);
  });

  it('never stores an order state twice, across retries or workers', async () => {
    const { sink, envelope, folder, mori } = await setUp();
    await sink.deliver(envelope);
    const first = readFileSync(join(folder, 'manifest.json'), 'utf8');
    const downloads = mori.stats.downloads;
    await Promise.all([sink.deliver(envelope), sink.deliver(envelope)]);
    expect(mori.stats.downloads).toBe(downloads);
    expect(readFileSync(join(folder, 'manifest.json'), 'utf8')).toBe(first);
  });

  it('keeps a non-downloadable order as its JSON and a manifest without files', async () => {
    const { dir } = await setUp();
    const config = sinkConfigSchema.parse({ type: 'archive', name: 'vault', dir });
    if (config.type !== 'archive') throw new Error('unreachable');
    const sink = createArchiveSink(config, { downloads: () => Promise.reject(new Error('must not be asked')) });
    onTestFinished(() => sink.close());
    const order = {
      orderId: '77',
      type: 'aiDetection',
      status: 'complete',
      updatedAt: '2026-12-01T00:00:00.000Z',
      result: { probability: 0.9 },
    };
    await sink.deliver(
      buildEnvelope({
        deliveryId: 'dlv_x',
        order,
        event: { eventId: 'e', eventType: 't', occurredAt: null, receivedAt: 'r' },
      }),
    );
    expect(JSON.parse(readFileSync(join(dir, '77', 'manifest.json'), 'utf8'))).toMatchObject({
      files: [],
      type: 'aiDetection',
    });
  });
});
