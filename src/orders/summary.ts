import { isFinal, normalizeStatus } from './order-status.js';

/** MORI's AI-detection bands (docs/mori-api.md, "Reading orders"), lowest first. */
export const VERDICTS = ['likely_real', 'uncertain_real', 'uncertain_ai', 'likely_ai'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** A watermark extract's outcome, as the v3 `result.detectionStatus` names it. */
export const DETECTION_STATUSES = ['detected', 'undetected', 'inconclusive', 'unsupported', 'error'] as const;
type DetectionStatus = (typeof DETECTION_STATUSES)[number];

/**
 * `data.summary` of the sink envelope: the facts a sink usually wants, in one shape whichever API
 * version served the order (v3's `result`, v2's flat fields, the older variants). Fields that do
 * not apply to the order's type are absent; facts MORI did not give are `null`.
 */
export interface OrderSummary {
  type: string;
  /** Today's status name (`detected` → `complete`). */
  status: string;
  final: boolean;
  /** Failed orders: MORI's error code and message. */
  errorCode?: string | null;
  errorMessage?: string | null;
  /** aiDetection: MORI's verdict, or the band its probability falls in when MORI gave none. */
  verdict?: Verdict | null;
  probability?: number | null;
  /** watermarkExtract. */
  detectionStatus?: DetectionStatus | null;
  watermarkFound?: boolean | null;
  watermarkText?: string | null;
  /** watermarkEmbed: every text embedded, in order, once each. */
  watermarkTexts?: string[];
  /** Output files (v3 `result.outputFiles`); empty when MORI lists none (v2, failed, expired). */
  files: { fileId: string; fileName: string | null }[];
  /** When MORI deletes the files; null when MORI does not say (v2, data integrity exceptions). */
  expiresAt: string | null;
  /** A test-mode order, when known (from the API key's `sk_test_` prefix). */
  test?: boolean;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const oneOf = <T extends string>(list: readonly T[], v: unknown): T | null =>
  (list as readonly unknown[]).includes(v) ? (v as T) : null;

/** likely_real < 0.25 <= uncertain_real < 0.5 <= uncertain_ai < 0.75 <= likely_ai. */
export function verdictFor(probability: number): Verdict {
  if (probability < 0.25) return 'likely_real';
  if (probability < 0.5) return 'uncertain_real';
  if (probability < 0.75) return 'uncertain_ai';
  return 'likely_ai';
}

/** v3 and v2 `errors {errorCode, errorMessage}`, older `error {code, message}`, or flat fields. */
function errorOf(order: Json): { errorCode: string | null; errorMessage: string | null } {
  const errors = obj(order.errors);
  const error = obj(order.error);
  return {
    errorCode: str(errors?.errorCode) ?? str(error?.code) ?? str(order.errorCode),
    errorMessage: str(errors?.errorMessage) ?? str(error?.message) ?? str(order.errorMessage),
  };
}

function aiDetection(order: Json, result: Json | undefined): Pick<OrderSummary, 'verdict' | 'probability'> {
  const probability = num(result?.probability) ?? num(order.probability);
  // v2 puts the band name in statusCode; v3 in result.verdict.
  const verdict =
    oneOf(VERDICTS, result?.verdict) ??
    oneOf(VERDICTS, order.statusCode) ??
    (probability === null ? null : verdictFor(probability));
  return { verdict, probability };
}

function watermarkExtract(
  order: Json,
  result: Json | undefined,
): Pick<OrderSummary, 'detectionStatus' | 'watermarkFound' | 'watermarkText'> {
  const detectionStatus =
    oneOf(DETECTION_STATUSES, result?.detectionStatus) ??
    oneOf(DETECTION_STATUSES, order.statusCode) ??
    oneOf(DETECTION_STATUSES, order.status);
  const watermarkFound = detectionStatus === 'detected' ? true : detectionStatus === 'undetected' ? false : null;
  return { detectionStatus, watermarkFound, watermarkText: str(result?.watermarkText) ?? str(order.watermarkText) };
}

function outputFiles(result: Json | undefined): Json[] {
  return Array.isArray(result?.outputFiles)
    ? (result.outputFiles as unknown[]).map(obj).filter((f): f is Json => f !== undefined)
    : [];
}

function watermarkTexts(order: Json, result: Json | undefined): string[] {
  const texts = [
    ...outputFiles(result).map((f) => f.watermarkText),
    ...(Array.isArray(order.watermarks) ? (order.watermarks as unknown[]) : []),
  ];
  return [...new Set(texts.filter((t): t is string => typeof t === 'string'))];
}

/** Summarises an order detail of either API version; `test` is added when the caller knows it. */
export function summarizeOrder(order: Json, known: { test?: boolean } = {}): OrderSummary {
  const type = str(order.type) ?? 'unknown';
  const rawStatus = str(order.status) ?? 'unknown';
  const status = normalizeStatus(rawStatus);
  const result = obj(order.result);
  const summary: OrderSummary = {
    type,
    status,
    final: isFinal(rawStatus),
    files: outputFiles(result)
      .filter((f) => typeof f.fileId === 'string' || typeof f.fileId === 'number')
      .map((f) => ({ fileId: String(f.fileId), fileName: str(f.fileName) })),
    expiresAt: str(order.expiresAt),
  };
  if (status === 'failed') Object.assign(summary, errorOf(order));
  if (type === 'aiDetection') Object.assign(summary, aiDetection(order, result));
  if (type === 'watermarkExtract') Object.assign(summary, watermarkExtract(order, result));
  if (type === 'watermarkEmbed') summary.watermarkTexts = watermarkTexts(order, result);
  if (known.test !== undefined) summary.test = known.test;
  return summary;
}
