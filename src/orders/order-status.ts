/** The order types MORI documents (docs/mori-api.md); sink filters may name only these. */
export const ORDER_TYPES = ['antiAi', 'watermarkEmbed', 'watermarkExtract', 'aiDetection'] as const;

/** Only completed antiAi and watermarkEmbed orders have files to download (docs/mori-api.md, "Reading orders"). */
const DOWNLOADABLE_TYPES: readonly string[] = ['antiAi', 'watermarkEmbed'] satisfies (typeof ORDER_TYPES)[number][];

/** Whether MORI serves files for orders of this type (any other type is 400 ORDER_TYPE_CANT_DOWNLOAD). */
export function isDownloadable(type: string): boolean {
  return DOWNLOADABLE_TYPES.includes(type);
}

/** The states after which an order never changes, as the summary names them. */
export const FINAL_STATUSES = ['complete', 'failed', 'expired'] as const;
type FinalStatus = (typeof FINAL_STATUSES)[number];

/**
 * Older extract orders report their outcome as the status itself (`detected`, `undetected`):
 * finished, and `complete` in today's words (docs/mori-api.md, "Reading orders").
 */
const STATUS_ALIASES: Readonly<Record<string, FinalStatus>> = { detected: 'complete', undetected: 'complete' };

/** Today's name for a status MORI served: `detected` → `complete`; everything else as it is. */
export function normalizeStatus(status: string): string {
  return STATUS_ALIASES[status] ?? status;
}

export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(normalizeStatus(status));
}

/** MORI's two webhook generations: the events it sends, and so the ones a sample event can play. */
export type WebhookGeneration = 'current' | 'legacy';

/**
 * Where an event came from: one of MORI's webhook generations; `manual` was queued by the
 * enqueue-order command; `reconcile` by the reconciler, which found in MORI's order list a final
 * order whose webhook never arrived.
 */
export type EventGeneration = WebhookGeneration | 'manual' | 'reconcile';
