import { Agent } from 'undici';
import { isDownloadable } from '../orders/order-status.js';
import { describeRequestFailure } from '../outbound/describe-request-failure.js';
import { createFolderStore, type ArchiveStore, type StoredFile } from './archive-store.js';
import type { SinkConfig } from './sink-config.js';
import { SinkError, type DeliveryEnvelope, type Sink } from './sink.js';

type ArchiveSinkConfig = Extract<SinkConfig, { type: 'archive' }>;

/** Fresh, presigned links to an order's output files (MORI's download endpoint: they last an hour). */
type GetDownloadLinks = (orderId: string) => Promise<{ files: { fileId: string; downloadUrl: string }[] }>;

export interface ArchiveSinkDeps {
  downloads: GetDownloadLinks;
  /** Counts the bytes stored, for the metric. */
  onBytes?: (bytes: number) => void;
  store?: ArchiveStore;
}

/** A file name MORI's customer chose, made safe for any filesystem: no separators, no leading dot. */
function safeName(fileId: string, fileName: string | null): string {
  const cleaned = (fileName ?? 'file')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 100);
  return `${fileId.replace(/[^A-Za-z0-9_-]/g, '_')}-${cleaned || 'file'}`;
}

interface Manifest {
  deliveryId: string;
  orderId: string;
  type: string;
  status: string;
  archivedAt: string;
  files: (StoredFile & { fileId: string })[];
  order: StoredFile;
}

/**
 * Keeps each complete order's output files and its JSON under `<dir>/<orderId>/`, before MORI
 * deletes them at `expiresAt`, with a manifest of names, sizes and SHA-256. Each file is streamed
 * to disk (never held in memory) and written atomically; the manifest is written last, so its
 * presence with this delivery id means the archive is complete, and a retry or a second worker
 * finding it does nothing. A failed download fails the delivery, and the retry asks MORI for fresh
 * links (never stored: they expire within the hour).
 */
export function createArchiveSink(config: ArchiveSinkConfig, deps: ArchiveSinkDeps): Sink {
  const store = deps.store ?? createFolderStore(config.dir);
  // Presigned object-store URLs answer HTTP/1.1 everywhere; docs/decisions.md, "HTTP/2".
  const agent = new Agent({ connections: config.concurrency, keepAliveTimeout: 30_000, allowH2: false });

  async function download(
    orderId: string,
    fileId: string,
    name: string,
    url: string,
  ): Promise<StoredFile & { fileId: string }> {
    const where = `sink "${config.name}": file ${fileId} of order ${orderId}`;
    let res: Awaited<ReturnType<Agent['request']>>;
    try {
      res = await agent.request({
        ...requestTarget(url),
        method: 'GET',
        headersTimeout: config.timeoutMs,
        bodyTimeout: config.timeoutMs,
      });
    } catch (err) {
      throw new SinkError(config.name, `${where}: download failed: ${describeRequestFailure(err).kind}`, {
        cause: err,
      });
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw new SinkError(config.name, `${where}: download answered ${res.statusCode}`);
    }
    try {
      const stored = await store.putStream(orderId, name, res.body);
      deps.onBytes?.(stored.bytes);
      return { fileId, ...stored };
    } catch (err) {
      throw new SinkError(
        config.name,
        `${where}: the download broke off (${describeRequestFailure(err).kind}); nothing torn was kept`,
        { cause: err },
      );
    }
  }

  /**
   * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and the
   * call settles only once the running ones have, so nothing is still writing when it rejects.
   */
  async function bounded<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    let failure: { err: unknown } | undefined;
    const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length && !failure) {
        const i = next++;
        try {
          results[i] = await work(items[i]!);
        } catch (err) {
          failure ??= { err };
        }
      }
    });
    await Promise.all(lanes);
    if (failure) throw failure.err;
    return results;
  }

  return {
    name: config.name,
    type: 'archive',
    async deliver(envelope: DeliveryEnvelope) {
      const { order, summary } = envelope.data;
      const orderId = String(order.orderId);
      const existing = (await store.readJson(orderId, 'manifest.json')) as Manifest | undefined;
      if (existing?.deliveryId === envelope.id) return;
      // An expired order has no files left: keep what was archived while it had them.
      if (summary.status === 'expired' && existing) return;

      let files: Manifest['files'] = [];
      if (summary.status === 'complete' && isDownloadable(summary.type) && summary.files.length > 0) {
        const links = await deps.downloads(orderId);
        const names = new Map(summary.files.map((f) => [f.fileId, safeName(f.fileId, f.fileName)]));
        files = await bounded(links.files, config.concurrency, (f) =>
          download(orderId, f.fileId, names.get(f.fileId) ?? safeName(f.fileId, null), f.downloadUrl),
        );
      }
      const orderFile = await store.putJson(orderId, 'order.json', order);
      const manifest: Manifest = {
        deliveryId: envelope.id,
        orderId,
        type: summary.type,
        status: summary.status,
        archivedAt: new Date().toISOString(),
        files,
        order: orderFile,
      };
      await store.putJson(orderId, 'manifest.json', manifest);
    },
    close: () => agent.close(),
  };
}

function requestTarget(url: string): { origin: string; path: string } {
  const u = new URL(url);
  return { origin: u.origin, path: `${u.pathname}${u.search}` };
}
