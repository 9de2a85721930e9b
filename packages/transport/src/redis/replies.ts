/** Reading Redis replies and errors: the only place that matches Redis error text. */

/** A row of XPENDING's extended form. */
export type XPendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

/** The stream or the group does not exist (deleted by an operator). */
export function isNoGroup(err: unknown): boolean {
  return errorMessage(err).startsWith('NOGROUP');
}

/** XGROUP CREATE of a group that exists already. */
export function isBusyGroup(err: unknown): boolean {
  return errorMessage(err).startsWith('BUSYGROUP');
}

/** A flat [name, value, name, value, ...] reply (XINFO rows) as an object. */
export function fieldMap(flat: unknown[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) map[String(flat[i])] = flat[i + 1];
  return map;
}

function errorMessage(err: unknown): string {
  const message = (err as Error)?.message;
  return typeof message === 'string' ? message : String(err);
}
