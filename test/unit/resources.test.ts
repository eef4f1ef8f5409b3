import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createResources } from '../../src/lifecycle.js';

describe('createResources', () => {
  it('closes in phase order whatever the order of opening, each even if one before it fails', async () => {
    const closed: string[] = [];
    const resources = createResources();
    const note = (name: string) => async () => void closed.push(name);
    resources.add('redis-server', 'embedded redis', note('embedded redis'));
    resources.add('connections', 'producer', note('producer'));
    resources.add('queues', 'queues', note('queues'));
    resources.add('intake', 'http server', note('http server'));
    resources.add('work', 'workers', () => Promise.reject(new Error('stuck')));
    resources.add('outputs', 'sinks', note('sinks'));
    expect(await resources.closeAll(5000, pino({ level: 'silent' }))).toBe(false);
    expect(closed).toEqual(['http server', 'sinks', 'queues', 'producer', 'embedded redis']);
  });

  it('reports a clean shutdown, and closes nothing twice', async () => {
    let closes = 0;
    const resources = createResources();
    resources.add('intake', 'http server', async () => void closes++);
    expect(await resources.closeAll(5000, pino({ level: 'silent' }))).toBe(true);
    expect(await resources.closeAll(5000, pino({ level: 'silent' }))).toBe(true);
    expect(closes).toBe(1);
  });
});
