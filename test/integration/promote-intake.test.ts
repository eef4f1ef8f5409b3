import { afterEach, describe, expect, it } from 'vitest';
import { intakeKey } from '../../src/keys.js';
import { createLogger } from '../../src/logger.js';
import type { EventJobData } from '../../src/queues.js';
import { createIntakePromoter, INTAKE_GROUP } from '../../src/worker/promote-intake.js';
import { buildTestServer, type TestServer } from '../helpers/build-test-server.js';
import { eventually } from '../helpers/eventually.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const event = (eventId: string, orderId = '1234567890123456789') =>
  JSON.stringify({ eventId, eventType: 'order.antiAi.completed', data: { orderId } });

function promoterOf(s: TestServer, consumer: string, claimIdleMs?: number) {
  return createIntakePromoter({
    redis: s.producer,
    queue: s.queue,
    prefix: s.config.REDIS_PREFIX,
    dedupeTtlMs: s.config.DEDUPE_WINDOW_SECONDS * 1000,
    consumer,
    logger: createLogger('silent'),
    ...(claimIdleMs === undefined ? {} : { claimIdleMs }),
  });
}

describe('the intake promoter (src/worker/promote-intake.ts)', () => {
  it('turns each accepted event into one job with its data, then acknowledges and deletes its entry', async () => {
    server = await buildTestServer();
    for (const id of ['p-1', 'p-2', 'p-3']) expect((await server.postSigned(event(id))).statusCode).toBe(200);
    const stream = intakeKey(server.config.REDIS_PREFIX);
    expect(await server.producer.xlen(stream)).toBe(3);

    const promoter = promoterOf(server, 'worker-a');
    promoter.start();
    try {
      await eventually(async () => (await server!.queue.getWaitingCount()) === 3, { what: 'three jobs' });
    } finally {
      await promoter.close();
    }
    const jobs = await server.queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.eventId).sort()).toEqual(['p-1', 'p-2', 'p-3']);
    expect(jobs[0]!.name).toBe('fetch-order');
    expect(jobs[0]!.data).toMatchObject({
      orderId: '1234567890123456789',
      generation: 'current',
      eventType: 'order.antiAi.completed',
    });
    expect(Date.parse(jobs[0]!.data.receivedAt)).not.toBeNaN();
    expect(await server.producer.xlen(stream)).toBe(0);
    expect(((await server.producer.xpending(stream, INTAKE_GROUP)) as [number])[0]).toBe(0);
  });

  it('promotes the entries of a worker that died before acknowledging them, once, even if it had added their jobs', async () => {
    server = await buildTestServer();
    for (const id of ['d-1', 'd-2']) await server.postSigned(event(id));
    const stream = intakeKey(server.config.REDIS_PREFIX);
    // A worker reads both entries, adds the job of the first, and dies before acknowledging either.
    await server.producer.xgroup('CREATE', stream, INTAKE_GROUP, '0', 'MKSTREAM');
    const read = (await server.producer.xreadgroup(
      'GROUP',
      INTAKE_GROUP,
      'dead',
      'COUNT',
      10,
      'STREAMS',
      stream,
      '>',
    )) as [string, [string, string[]][]][];
    expect(read[0]![1]).toHaveLength(2);
    const first = JSON.parse(read[0]![1][0]![1][1]!) as EventJobData;
    await server.queue.add('fetch-order', first, {
      jobId: 'evt-added-before-the-crash',
      deduplication: { id: first.eventId, ttl: server.config.DEDUPE_WINDOW_SECONDS * 1000 },
    });

    const survivor = promoterOf(server, 'worker-b', 200);
    // Not yet idle long enough: nothing is taken from a worker that may still be busy with it.
    expect(await survivor.promoteOnce()).toBe(0);
    await eventually(async () => (await survivor.promoteOnce()) === 2, { what: 'the abandoned entries to be claimed' });
    const jobs = await server.queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.eventId).sort()).toEqual(['d-1', 'd-2']);
    expect(jobs.find((j) => j.data.eventId === first.eventId)!.id).toBe('evt-added-before-the-crash');
    expect(await server.producer.xlen(stream)).toBe(0);
    expect(((await server.producer.xpending(stream, INTAKE_GROUP)) as [number])[0]).toBe(0);
  });

  it('promotes at once the entries its own failed round had read, without waiting for a claim', async () => {
    server = await buildTestServer();
    for (const id of ['own-1', 'own-2']) await server.postSigned(event(id));
    const stream = intakeKey(server.config.REDIS_PREFIX);
    // A round of worker-x read both entries, then failed (Redis away) before adding their jobs.
    await server.producer.xgroup('CREATE', stream, INTAKE_GROUP, '0', 'MKSTREAM');
    await server.producer.xreadgroup('GROUP', INTAKE_GROUP, 'worker-x', 'COUNT', 10, 'STREAMS', stream, '>');
    // worker-x again (the same process, next round), with the default claim idle of a minute.
    const promoter = promoterOf(server, 'worker-x');
    expect(await promoter.promoteOnce()).toBe(2);
    expect((await server.queue.getJobs(['waiting'])).map((j) => j.data.eventId).sort()).toEqual(['own-1', 'own-2']);
    expect(((await server.producer.xpending(stream, INTAKE_GROUP)) as [number])[0]).toBe(0);
  });

  it('drops an entry that is not an event, naming it, and promotes the rest of its batch', async () => {
    server = await buildTestServer();
    const stream = intakeKey(server.config.REDIS_PREFIX);
    const bad = await server.producer.xadd(stream, '*', 'd', 'not json', 't', '');
    await server.postSigned(event('good-1'));
    const lines: string[] = [];
    const promoter = createIntakePromoter({
      redis: server.producer,
      queue: server.queue,
      prefix: server.config.REDIS_PREFIX,
      dedupeTtlMs: 60_000,
      consumer: 'worker-c',
      logger: { error: (fields: object, msg: string) => lines.push(JSON.stringify({ ...fields, msg })) } as never,
    });
    expect(await promoter.promoteOnce()).toBe(2);
    expect((await server.queue.getJobs(['waiting'])).map((j) => j.data.eventId)).toEqual(['good-1']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(bad!);
    expect(lines[0]).toContain('not an event');
    expect(await server.producer.xlen(stream)).toBe(0);
  });

  it('two workers promoting the same intake make one job per event', async () => {
    server = await buildTestServer();
    const a = promoterOf(server, 'worker-a');
    const b = promoterOf(server, 'worker-b');
    a.start();
    b.start();
    try {
      const ids = Array.from({ length: 200 }, (_, i) => `two-${i}`);
      const answers = await Promise.all(
        ids.map((id) => server!.postSigned(event(id, String(1000 + Number(id.slice(4)))))),
      );
      expect(answers.every((r) => r.statusCode === 200)).toBe(true);
      await eventually(async () => (await server!.queue.getWaitingCount()) === 200, { what: '200 jobs' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const jobs = await server.queue.getJobs(['waiting']);
    expect(new Set(jobs.map((j) => j.data.eventId)).size).toBe(200);
    expect(await server.producer.xlen(intakeKey(server.config.REDIS_PREFIX))).toBe(0);
  });
});
