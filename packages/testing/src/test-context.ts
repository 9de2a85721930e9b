import { RedisStreamBatchContext, RedisStreamContext, type BatchEntry, type Settlement } from '@nestream/transport';

export interface TestContextOptions {
  /** @default 'test.pattern' */
  pattern?: string;
  /** The stream key. @default the pattern (a partition's stream, `<pattern>:{i}`, when `partition` is given) */
  stream?: string;
  /** @default '1700000000000-0' */
  id?: string;
  /** @default 'test-group' */
  group?: string;
  /** @default 'test-consumer' */
  consumer?: string;
  /** Which attempt this is. @default 1 */
  deliveryCount?: number;
  /** @default {} */
  headers?: Record<string, string>;
  partition?: number;
  /** Of an ordered partition: the lease generation `ctx.getFencingToken()` returns. */
  fencingToken?: number;
  /** Nest 12's packet metadata `ctx.getMetadata()` returns. */
  metadata?: Record<string, string>;
}

/**
 * A `RedisStreamContext` for a unit test of a handler (`controller.handle(payload, testContext({ deliveryCount: 3 }))`),
 * built the way the transport builds it. With `ack: 'manual'`, `settlementOf(ctx)` says how the handler settled.
 */
export function testContext(options: TestContextOptions = {}): RedisStreamContext {
  const pattern = options.pattern ?? 'test.pattern';
  const stream = options.stream ?? (options.partition === undefined ? pattern : `${pattern}:{${options.partition}}`);
  return new RedisStreamContext([
    stream, options.id ?? '1700000000000-0', options.group ?? 'test-group', options.consumer ?? 'test-consumer',
    options.deliveryCount ?? 1, options.headers ?? {}, pattern, options.partition, options.fencingToken, options.metadata,
  ]);
}

/** A `RedisStreamBatchContext` for a batch handler's unit test: one entry per payload (ids `1700000000000-<i>`). */
export function testBatchContext(
  entries: number | Array<Partial<BatchEntry>>,
  options: Pick<TestContextOptions, 'pattern' | 'stream' | 'group' | 'consumer' | 'partition'> = {},
): RedisStreamBatchContext {
  const list: Array<Partial<BatchEntry>> = typeof entries === 'number' ? Array.from({ length: entries }, () => ({})) : entries;
  const pattern = options.pattern ?? 'test.pattern';
  const stream = options.stream ?? (options.partition === undefined ? pattern : `${pattern}:{${options.partition}}`);
  return new RedisStreamBatchContext([
    stream, options.group ?? 'test-group', options.consumer ?? 'test-consumer',
    list.map((e, i) => ({ id: e.id ?? `1700000000000-${i}`, deliveryCount: e.deliveryCount ?? 1, headers: e.headers ?? {} })),
    pattern, options.partition,
  ]);
}

/** How a manual-ack handler settled the entry of this context (undefined: not at all). */
export function settlementOf(ctx: RedisStreamContext): Settlement | undefined {
  return ctx.settlement;
}

/** The entries a batch handler marked failed with ctx.fail(), by index. */
export function failuresOf(ctx: RedisStreamBatchContext): Map<number, unknown> {
  return new Map(ctx.failures);
}
