import type { Redis } from 'ioredis';

/** A dead-letter entry as the transport writes it, with a fixed id and time. */
export async function addDeadLetter(
  redis: Redis,
  stream: string,
  id: string,
  original: Record<string, string>,
  meta: { sourceId: string; reason: string; attempts: number; error: [string, string]; group?: string; consumer?: string },
): Promise<void> {
  const failedAt = new Date(Number(id.split('-')[0])).toISOString();
  await redis.xadd(
    `${stream}:dlq`, id,
    ...Object.entries(original).flat(),
    'dlq.stream', stream,
    'dlq.id', meta.sourceId,
    'dlq.group', meta.group ?? 'billing',
    'dlq.consumer', meta.consumer ?? 'worker-1',
    'dlq.attempts', String(meta.attempts),
    'dlq.reason', meta.reason,
    'dlq.error.name', meta.error[0],
    'dlq.error.message', meta.error[1],
    'dlq.failedAt', failedAt,
  );
}

/**
 * The state the golden outputs describe (everything but consumer idle times is fixed):
 * - `orders.created`: 3 entries; group `billing` read 2 (worker-1) and acked 1; group `audit` read nothing;
 *   3 dead letters (2 max-attempts, 1 decode);
 * - `inventory.reserved`: 1 entry, handled by group `notification` (consumer n-1);
 * - a reply stream of a request-reply client, and a string key (neither is listed).
 */
export async function writeKnownState(redis: Redis): Promise<void> {
  await redis.flushall();
  await redis.xadd('orders.created', '1700000000000-0', 'data', '{"id":1,"sku":"widget"}', 'cid', 'c-1');
  await redis.xadd('orders.created', '1700000000001-0', 'data', '{"id":2,"sku":"gadget"}', 'cid', 'c-2');
  await redis.xadd('orders.created', '1700000000002-0', 'data', '{"id":3,"sku":"widget"}', 'cid', 'c-3');
  await redis.xgroup('CREATE', 'orders.created', 'billing', '0');
  await redis.xgroup('CREATE', 'orders.created', 'audit', '0');
  await redis.xreadgroup('GROUP', 'billing', 'worker-1', 'COUNT', 2, 'STREAMS', 'orders.created', '>');
  await redis.xack('orders.created', 'billing', '1700000000000-0');

  await redis.xadd('inventory.reserved', '1700000000500-0', 'data', '{"order":1}', 'cid', 'c-4');
  await redis.xgroup('CREATE', 'inventory.reserved', 'notification', '0');
  await redis.xreadgroup('GROUP', 'notification', 'n-1', 'STREAMS', 'inventory.reserved', '>');
  await redis.xack('inventory.reserved', 'notification', '1700000000500-0');

  await addDeadLetter(redis, 'orders.created', '1700000100000-0', { data: '{"id":7,"sku":"gizmo","customer":"ivy"}', cid: 'c-7', h: '{"tenant":"acme"}' }, {
    sourceId: '1699999990000-0', reason: 'max-attempts', attempts: 3, error: ['Error', 'warehouse south offline'],
  });
  await addDeadLetter(redis, 'orders.created', '1700000200000-0', { data: 'not json', cid: 'c-8' }, {
    sourceId: '1699999990001-0', reason: 'decode', attempts: 1, error: ['DecodeError', '"data" is not valid JSON'],
  });
  await addDeadLetter(redis, 'orders.created', '1700000300000-0', { data: '{"id":9,"sku":"gizmo","customer":"jon"}', cid: 'c-9' }, {
    sourceId: '1699999990002-0', reason: 'max-attempts', attempts: 3, error: ['Error', 'warehouse south offline'], consumer: 'worker-2',
  });

  await redis.xadd('nestream:replies:5b0c', '*', 'cid', 'x', 'p', '{}');
  await redis.set('feature-flags', '{}');
}
