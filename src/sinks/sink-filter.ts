import type { SinkFilter } from './sink-config.js';

/** True when the order passes the sink's filter; no filter (or an empty one) passes everything. */
export function matchesFilter(filter: SinkFilter | undefined, order: { type?: unknown; status?: unknown }): boolean {
  if (!filter) return true;
  if (filter.orderTypes && !(filter.orderTypes as readonly unknown[]).includes(order.type)) return false;
  if (filter.statuses && !(filter.statuses as readonly unknown[]).includes(order.status)) return false;
  return true;
}
