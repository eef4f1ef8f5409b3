// A signed-event body as MORI sends it (compact JSON, a presigned downloadUrl), for the benchmarks.
export function eventBody(eventId) {
  return JSON.stringify({
    eventId,
    eventType: 'order.antiAi.completed',
    occurredAt: new Date().toISOString(),
    data: {
      orderId: String(1234567890123456789n + BigInt(Math.floor(Math.random() * 1e6))),
      orderName: 'bench',
      status: 'complete',
      fileCount: 3,
      downloadUrl: 'https://example.invalid/presigned?sig=x',
    },
  });
}
