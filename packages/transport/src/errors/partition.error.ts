import { brand } from '../brand.js';

/**
 * A partition count that differs from the one recorded in Redis, or a partition key for a pattern that has no
 * partitions: routing by it would put entries where no consumer reads them, or break the per-key order.
 */
export class PartitionError extends Error {
  static {
    brand(this, 'PartitionError');
  }

  override readonly name = 'PartitionError';
}
