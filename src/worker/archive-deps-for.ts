import type { Metrics } from '../metrics.js';
import type { MoriClient } from '../mori/mori-client.js';
import type { ArchiveSinkDeps } from '../sinks/archive-sink.js';

/** What an archive sink needs from the worker: MORI's download links (asked afresh each time) and the byte counter. */
export function archiveDepsFor(mori: Pick<MoriClient, 'getDownloadLinks'>, metrics: Metrics): ArchiveSinkDeps {
  return {
    downloads: (orderId) => mori.getDownloadLinks(orderId),
    onBytes: (bytes) => metrics.archiveBytes.inc(bytes),
  };
}
