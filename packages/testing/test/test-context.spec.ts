import { testBatchContext, testContext, settlementOf, failuresOf } from '@nestream/testing';
import { RedisStreamContext } from '@nestream/transport';

/** A handler as a unit test calls it: no Nest, no transport. */
class Shipping {
  readonly shipped: string[] = [];
  ship(order: { id: string }, ctx: RedisStreamContext) {
    if (ctx.getDeliveryCount() > 3) return ctx.deadLetter('gave up on carrier');
    if (ctx.getHeaders().tenant !== 'acme') return ctx.ack();
    this.shipped.push(order.id);
    ctx.ack();
  }
}

it('builds a context as the transport does, and reads back a manual settlement', () => {
  const ctx = testContext({ pattern: 'orders.paid', deliveryCount: 2, headers: { tenant: 'acme' } });
  expect(ctx).toBeInstanceOf(RedisStreamContext);
  expect([ctx.getStream(), ctx.getPattern(), ctx.getDeliveryCount(), ctx.getGroup(), ctx.getPartition()]).toEqual(['orders.paid', 'orders.paid', 2, 'test-group', undefined]);
  const shipping = new Shipping();
  shipping.ship({ id: 'o1' }, ctx);
  expect(shipping.shipped).toEqual(['o1']);
  expect(settlementOf(ctx)).toEqual({ kind: 'ack' });
  const late = testContext({ deliveryCount: 4 });
  shipping.ship({ id: 'o2' }, late);
  expect(settlementOf(late)).toEqual({ kind: 'deadLetter', reason: 'gave up on carrier' });
  expect(testContext({ pattern: 'p', partition: 3 }).getStream()).toBe('p:{3}');
});

it('builds a batch context and reads back the entries marked failed', () => {
  const ctx = testBatchContext(3, { pattern: 'metrics' });
  expect(ctx.getEntries().map(e => e.id)).toEqual(['1700000000000-0', '1700000000000-1', '1700000000000-2']);
  ctx.fail(1, new Error('bad sample'));
  expect([...failuresOf(ctx).keys()]).toEqual([1]);
});
