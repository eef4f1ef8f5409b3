import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDeliveryLedger, type DeliveryLedger } from '../../src/worker/delivery-ledger.js';
import { closeRedis, createRedis, type Redis } from '../../src/redis.js';
import { testPrefix } from '../helpers/build-test-server.js';
import { deleteKeysWithPrefix } from '../helpers/redis-keys.js';

describe('the delivery ledger', () => {
  let redis: Redis;
  let prefix: string;
  let ledger: DeliveryLedger;
  beforeEach(() => {
    redis = createRedis(inject('redisUrl'), 'plain');
    prefix = testPrefix();
    ledger = createDeliveryLedger(redis, prefix);
  });
  afterEach(async () => {
    await deleteKeysWithPrefix(inject('redisUrl'), prefix);
    await closeRedis(redis);
  });

  it('says new, then delivered, per sink', async () => {
    expect(await ledger.check('crm', 'dlv_a', '1', 1000)).toBe('new');
    await ledger.markDelivered('crm', 'dlv_a', '1', 1000);
    expect(await ledger.check('crm', 'dlv_a', '1', 1000)).toBe('delivered');
    expect(await ledger.check('archive', 'dlv_a', '1', 1000)).toBe('new');
  });

  it('calls an older state stale once a newer one reached the sink, and never lowers the mark', async () => {
    await ledger.markDelivered('crm', 'dlv_new', '1', 2000);
    expect(await ledger.check('crm', 'dlv_old', '1', 1000)).toBe('stale');
    expect(await ledger.check('crm', 'dlv_newer', '1', 3000)).toBe('new');
    await ledger.markDelivered('crm', 'dlv_old', '1', 1000);
    expect(await ledger.check('crm', 'dlv_mid', '1', 1500)).toBe('stale');
    expect(await ledger.check('crm', 'dlv_other_order', '2', 1000)).toBe('new');
  });

  it('keeps its keys under the {hash tag} prefix, with a TTL', async () => {
    await ledger.markDelivered('crm', 'dlv_a', '1', 1000);
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys.sort()).toEqual([`${prefix}:delivered:crm:dlv_a`, `${prefix}:newest:crm:1`]);
    for (const k of keys) expect(await redis.pttl(k)).toBeGreaterThan(0);
  });
});
