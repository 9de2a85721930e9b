import { brand } from '../brand.js';

/** A manual-mode handler settled the same entry twice (ack, retry or deadLetter). */
export class SettlementError extends Error {
  static {
    brand(this, 'SettlementError');
  }

  override readonly name = 'SettlementError';
}
