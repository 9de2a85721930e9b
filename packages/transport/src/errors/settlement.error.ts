/** A manual-mode handler settled the same entry twice (ack, retry or deadLetter). */
export class SettlementError extends Error {
  override readonly name = 'SettlementError';
}
