import type { EntityManager } from 'typeorm';
import { OutboxMessage } from './outbox-message.entity.js';

/**
 * Queues an event for publishing. Call it with the transaction's EntityManager, next to the change the event
 * announces: both are committed, or neither. The OutboxRelay publishes it afterwards (at least once).
 */
export async function addToOutbox(manager: EntityManager, pattern: string, payload: object): Promise<void> {
  await manager.insert(OutboxMessage, { pattern, payload });
}
