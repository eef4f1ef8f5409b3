import { createHash, randomUUID } from 'node:crypto';
import { ORDER_TYPES } from '../sinks/sink-config.js';

export type OrderType = (typeof ORDER_TYPES)[number];
export type Generation = 'current' | 'legacy';

/** Legacy feature names, as in `ORDER.ANTI_AI.PROCESSED` (CONTRACT.md A). */
const LEGACY_FEATURE: Record<OrderType, string> = {
  antiAi: 'ANTI_AI',
  watermarkEmbed: 'WATERMARK_EMBED',
  watermarkExtract: 'WATERMARK_EXTRACT',
  aiDetection: 'AI_DETECTION',
};

/** A 19-digit order id like MORI's: beyond JavaScript's safe integers, so always a string. */
export function randomOrderId(): string {
  const digits = BigInt(`0x${randomUUID().replace(/-/g, '').slice(0, 15)}`) % 9_000_000_000_000_000_000n;
  return (1_000_000_000_000_000_000n + digits).toString();
}

/** A random order id that the simulator (mock-mori) serves as an order of `type`. */
export function randomOrderIdOfType(type: OrderType): string {
  for (;;) {
    const id = randomOrderId();
    if (orderTypeFor(id) === type) return id;
  }
}

/** The order type a simulator serves for an id, stable across calls: spreads ids over the four types. */
export function orderTypeFor(orderId: string): OrderType {
  const byte = createHash('sha256').update(orderId).digest()[0] ?? 0;
  return ORDER_TYPES[byte % ORDER_TYPES.length] as OrderType;
}

function presigned(base: string, orderId: string, name: string): string {
  return `${base}/files/${orderId}/${name}?X-Amz-Expires=3600&X-Amz-Signature=${randomUUID().replace(/-/g, '')}`;
}

/** Type-specific fields MORI documents for each order type (CONTRACT.md A, "Fetching an order"). */
function typeFields(type: OrderType, orderId: string, fileBase: string): Record<string, unknown> {
  switch (type) {
    case 'antiAi':
      return { options: { strength: 'medium' } };
    case 'watermarkEmbed':
      return { watermarkTexts: ['© MORI demo'], options: { strength: 'high' } };
    case 'watermarkExtract':
      return { extractedWatermarkText: '© MORI demo', statusCode: 'detected' };
    case 'aiDetection': {
      const probability = 0.82;
      return {
        originalImageUrl: presigned(fileBase, orderId, 'original.png'),
        probability,
        statusCode: 'likely_ai',
        heatmapImageUrl: presigned(fileBase, orderId, 'heatmap.png'),
        overlayImageUrl: presigned(fileBase, orderId, 'overlay.png'),
        options: { heatmap: true },
      };
    }
  }
}

export interface SampleOrderOptions {
  type?: OrderType;
  status?: 'pending' | 'inProgress' | 'complete' | 'failed' | 'expired';
  createdAt?: Date;
  updatedAt?: Date;
  fileBase?: string;
}

/** The `data` object of GET /api/v2/orders/{id}, as MORI serves it for each order type. */
export function buildSampleOrder(orderId: string, opts: SampleOrderOptions = {}): Record<string, unknown> {
  const type = opts.type ?? orderTypeFor(orderId);
  const status = opts.status ?? 'complete';
  const createdAt = opts.createdAt ?? new Date(Date.now() - 60_000);
  const updatedAt = opts.updatedAt ?? new Date();
  const fileBase = opts.fileBase ?? 'https://files.example.invalid';
  return {
    type,
    orderId,
    channel: 'api',
    thumbnailImageUrl: status === 'expired' ? null : presigned(fileBase, orderId, 'thumbnail.png'),
    status,
    orderName: `${type}_${createdAt.toISOString().slice(0, 10)}`,
    fileCount: 3,
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    errors: status === 'failed' ? { message: 'The image could not be processed', code: 'PROCESSING_FAILED' } : null,
    ...(status === 'complete' ? typeFields(type, orderId, fileBase) : {}),
  };
}

/** A webhook body as MORI sends it for a finished order, in either generation; compact JSON. */
export function buildSampleEvent(
  order: Record<string, unknown>,
  generation: Generation = 'current',
  eventId: string = randomUUID(),
): Record<string, unknown> {
  const type = order.type as OrderType;
  const failed = order.status === 'failed';
  if (generation === 'legacy') {
    return { eventId, eventType: `ORDER.${LEGACY_FEATURE[type] ?? 'ANTI_AI'}.PROCESSED`, occurredAt: order.updatedAt, data: { orderId: order.orderId, status: order.status } };
  }
  return {
    eventId,
    eventType: `order.${type}.${failed ? 'failed' : 'completed'}`,
    occurredAt: order.updatedAt,
    data: {
      orderId: order.orderId,
      orderName: order.orderName,
      createdAt: order.createdAt,
      updatedAt: order.updatedAt,
      ...(failed ? { failedAt: order.updatedAt, error: { code: 'PROCESSING_FAILED', message: 'The image could not be processed' } } : { completedAt: order.updatedAt }),
      status: order.status,
      fileCount: order.fileCount,
      ...(failed ? {} : { downloadUrl: `https://files.example.invalid/download/${String(order.orderId)}?X-Amz-Signature=${randomUUID().replace(/-/g, '')}` }),
    },
  };
}
