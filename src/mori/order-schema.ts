import { z } from 'zod';
import { orderIdSchema } from '../orders/order-id.js';

/**
 * The `data` object of GET /api/v3/orders/{id} (and v2). Loose: every field MORI sends is kept and passed
 * to the sinks, known or not (type-specific fields, options, fields added later). Only what the
 * pipeline relies on is checked: the id, the status, and `updatedAt`, from which the delivery id
 * is derived. `type` and `status` stay open strings so a new order type or status does not break us.
 */
const orderSchema = z.looseObject({
  orderId: orderIdSchema,
  type: z.string().min(1).max(64),
  status: z.string().min(1).max(64),
  updatedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
});

export const orderResponseSchema = z.object({ data: orderSchema });

export type MoriOrder = z.output<typeof orderSchema>;

/** MORI's error envelope (docs/mori-api.md); every part optional, used only for a clear message. */
export const moriErrorSchema = z.looseObject({
  message: z.string().optional(),
  code: z.string().optional(),
  errors: z.looseObject({ message: z.string().optional(), propertyName: z.string().nullish() }).nullish(),
});

/**
 * A row of `GET /api/v2/orders` (docs/mori-api.md, "Reading orders"): loose like the detail; only
 * what the reconciler relies on is checked.
 */
const orderListRowSchema = z.looseObject({
  orderId: orderIdSchema,
  type: z.string().min(1).max(64),
  status: z.string().min(1).max(64),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
  updatedAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date-time'),
});

export const orderListResponseSchema = z.object({
  data: z.object({
    orders: z.array(orderListRowSchema),
    pageInfo: z.looseObject({ totalPages: z.number().int().min(0), currentPage: z.number().int().min(0) }),
  }),
});

export type OrderListPage = z.output<typeof orderListResponseSchema>['data'];
export type OrderListRow = OrderListPage['orders'][number];

/** `GET /api/v3/orders/{id}/download` (docs/mori-api.md, "Reading orders"): presigned, at most an hour. */
export const downloadResponseSchema = z.object({
  data: z.looseObject({
    files: z.array(
      z.looseObject({
        fileId: z.union([z.string(), z.number()]).transform(String),
        downloadUrl: z.url({ protocol: /^https?$/ }),
      }),
    ),
  }),
});

export type DownloadLinks = z.output<typeof downloadResponseSchema>['data'];
