import { createHash, randomUUID } from 'node:crypto';
import { ORDER_TYPES, type WebhookGeneration } from '../orders/order-status.js';
import { verdictFor } from '../orders/summary.js';

export type OrderType = (typeof ORDER_TYPES)[number];

/** Legacy feature names, as in `ORDER.ANTI_AI.PROCESSED` (docs/mori-api.md). */
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

/**
 * Order ids the simulator (mock-mori) serves as failed orders: those ending in `000`. Visible in
 * the id, so a reader of the logs can tell, and rare among random ids (one in a thousand).
 */
const FAILING_ID_SUFFIX = '000';

/** Whether the simulator serves this order id as a failed order. */
export function failsInSimulator(orderId: string): boolean {
  return orderId.endsWith(FAILING_ID_SUFFIX);
}

/**
 * A random order id that the simulator serves as an order of `type`, failed or not, so the event
 * `send-test-event --type T [--failed]` announces is the order the simulator serves.
 */
export function randomOrderIdOfType(type: OrderType, failed = false): string {
  for (;;) {
    const random = randomOrderId();
    const id = failed ? `${random.slice(0, -FAILING_ID_SUFFIX.length)}${FAILING_ID_SUFFIX}` : random;
    if (orderTypeFor(id) === type && failsInSimulator(id) === failed) return id;
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

/**
 * The outcome a test-mode order gets from its file name's suffix (docs/mori-api.md, "Test mode"):
 * `_fail` fails, `_detected` / `_undetected` set an extract's result, `_ai` / `_human` an AI
 * detection's probability (0.98 / 0.02).
 */
export interface SampleOutcome {
  /** Output files of an antiAi or watermarkEmbed order. @defaultValue 1 */
  files?: number;
  failed?: boolean;
  detected?: boolean;
  probability?: number;
}

export function outcomeForFileName(fileName: string): SampleOutcome {
  const stem = fileName.replace(/\.[^.]*$/, '');
  if (stem.endsWith('_fail')) return { failed: true };
  if (stem.endsWith('_undetected')) return { detected: false };
  if (stem.endsWith('_detected')) return { detected: true };
  if (stem.endsWith('_ai')) return { probability: 0.98 };
  if (stem.endsWith('_human')) return { probability: 0.02 };
  return {};
}

function outputFiles(
  orderId: string,
  outcome: SampleOutcome,
): { fileId: string; fileName: string; inputFileId: string }[] {
  return Array.from({ length: outcome.files ?? 1 }, (_, i) => ({
    fileId: `${orderId}${i + 1}`,
    fileName: i === 0 ? 'image.png' : `image-${i + 1}.png`,
    inputFileId: `${orderId}0`,
  }));
}

/** v3's per-type `result` (docs/mori-api.md, "Reading orders"). */
function v3Result(type: OrderType, orderId: string, fileBase: string, outcome: SampleOutcome): Record<string, unknown> {
  switch (type) {
    case 'antiAi':
      return { outputFiles: outputFiles(orderId, outcome) };
    case 'watermarkEmbed':
      return { outputFiles: outputFiles(orderId, outcome).map((f) => ({ ...f, watermarkText: '© MORI demo' })) };
    case 'watermarkExtract': {
      const detected = outcome.detected ?? true;
      return {
        detectionStatus: detected ? 'detected' : 'undetected',
        watermarkText: detected ? '© MORI demo' : null,
        reportSupported: false,
        reports: [],
      };
    }
    case 'aiDetection': {
      const probability = outcome.probability ?? 0.82;
      return {
        verdict: verdictFor(probability),
        probability,
        options: { generateHeatmap: true, generateOverlay: true, generateThumbnail: true },
        originalImageUrl: presigned(fileBase, orderId, 'original.png'),
        heatmapUrl: presigned(fileBase, orderId, 'heatmap.png'),
        overlayUrl: presigned(fileBase, orderId, 'overlay.png'),
      };
    }
  }
}

/** v2's flat type-specific fields. */
function v2Fields(type: OrderType, orderId: string, fileBase: string, outcome: SampleOutcome): Record<string, unknown> {
  switch (type) {
    case 'antiAi':
      return {};
    case 'watermarkEmbed':
      return { watermarks: ['© MORI demo'] };
    case 'watermarkExtract': {
      const detected = outcome.detected ?? true;
      return { statusCode: detected ? 'detected' : 'undetected', watermarkText: detected ? '© MORI demo' : null };
    }
    case 'aiDetection': {
      const probability = outcome.probability ?? 0.82;
      return {
        originalImageUrl: presigned(fileBase, orderId, 'original.png'),
        probability,
        statusCode: verdictFor(probability),
        heatmapUrl: presigned(fileBase, orderId, 'heatmap.png'),
        overlayUrl: presigned(fileBase, orderId, 'overlay.png'),
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
  /** The detail's shape: v3 (current) or v2 (deprecated). @defaultValue 'v3' */
  apiVersion?: 'v2' | 'v3';
  outcome?: SampleOutcome;
}

const RETENTION_DAYS = 7;

/** The `data` object of GET /api/{v3,v2}/orders/{id}, as MORI serves it for each order type. */
export function buildSampleOrder(orderId: string, opts: SampleOrderOptions = {}): Record<string, unknown> {
  const type = opts.type ?? orderTypeFor(orderId);
  const status = opts.status ?? 'complete';
  const createdAt = opts.createdAt ?? new Date(Date.now() - 60_000);
  const updatedAt = opts.updatedAt ?? new Date();
  const fileBase = opts.fileBase ?? 'https://files.example.invalid';
  const outcome = opts.outcome ?? {};
  const errors =
    status === 'failed' ? { errorCode: 'PROCESSING_ERROR', errorMessage: 'The image could not be processed' } : null;
  const common = {
    type,
    orderId,
    orderName: `${type}_${createdAt.toISOString().slice(0, 10)}`,
    channel: 'api',
    status,
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    thumbnailImageUrl: status === 'expired' ? null : presigned(fileBase, orderId, 'thumbnail.png'),
    errors,
  };
  if (opts.apiVersion === 'v2') {
    return { ...common, fileCount: 1, ...(status === 'complete' ? v2Fields(type, orderId, fileBase, outcome) : {}) };
  }
  return {
    ...common,
    expiresAt: new Date(createdAt.getTime() + RETENTION_DAYS * 86_400_000).toISOString(),
    retentionDays: RETENTION_DAYS,
    processingDelayed: false,
    inputFiles: [{ fileId: `${orderId}0`, fileName: 'image.png' }],
    result: status === 'complete' ? v3Result(type, orderId, fileBase, outcome) : null,
  };
}

/** A webhook body as MORI sends it for a finished order, in either generation; compact JSON. */
export function buildSampleEvent(
  order: Record<string, unknown>,
  generation: WebhookGeneration = 'current',
  eventId: string = randomUUID(),
): Record<string, unknown> {
  const type = order.type as OrderType;
  const failed = order.status === 'failed';
  if (generation === 'legacy') {
    return {
      eventId,
      eventType: `ORDER.${LEGACY_FEATURE[type] ?? 'ANTI_AI'}.PROCESSED`,
      occurredAt: order.updatedAt,
      data: { orderId: order.orderId, status: order.status },
    };
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
      ...(failed
        ? { failedAt: order.updatedAt, errorCode: 'PROCESSING_ERROR', errorMessage: 'The image could not be processed' }
        : { completedAt: order.updatedAt }),
      status: order.status,
      fileCount: 1,
      ...(failed
        ? {}
        : {
            downloadUrl: `https://files.example.invalid/download/${String(order.orderId)}?X-Amz-Signature=${randomUUID().replace(/-/g, '')}`,
          }),
    },
  };
}
