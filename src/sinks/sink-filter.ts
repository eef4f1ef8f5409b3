import type { OrderSummary } from '../orders/summary.js';
import type { SinkFilter } from './sink-config.js';

const listed = (list: readonly unknown[] | undefined, value: unknown): boolean =>
  list === undefined || list.includes(value);

/** True when the order's summary passes the sink's filter; no filter (or an empty one) passes everything. */
export function matchesFilter(filter: SinkFilter | undefined, summary: OrderSummary): boolean {
  if (!filter) return true;
  if (!listed(filter.orderTypes, summary.type)) return false;
  if (!listed(filter.statuses, summary.status)) return false;
  if (!listed(filter.verdicts, summary.verdict)) return false;
  if (!listed(filter.detectionStatuses, summary.detectionStatus)) return false;
  if (!listed(filter.errorCodes, summary.errorCode)) return false;
  if (
    filter.minProbability !== undefined &&
    !(typeof summary.probability === 'number' && summary.probability >= filter.minProbability)
  )
    return false;
  return true;
}
