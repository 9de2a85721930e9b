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

/**
 * A Redis error's message with its cause: an EXECABORT from MULTI/EXEC names the command that was refused
 * (NOPERM, OOM, WRONGTYPE) only in ioredis's `previousErrors`.
 */
export function redisErrorMessage(err: unknown): string {
  const message = errorMessage(err);
  if (isCertificateError(err)) {
    const code = (err as { code: string }).code;
    return `TLS: the Redis server's certificate was refused (${code}: ${message}); check connection.tls (ca, servername) and the host name`;
  }
  const previous = (err as { previousErrors?: unknown[] })?.previousErrors;
  if (!Array.isArray(previous) || previous.length === 0) return message;
  return `${message} (${previous.map(errorMessage).join('; ')})`;
}

/**
 * ioredis gave up on a command because its connection was lost: on one Redis when its retries ran out
 * (MaxRetriesPerRequestError); on a cluster when the node's connection closed with the command in flight, said
 * bare or after the cluster's own retries ("Too many Cluster redirections. Last error: Error: Connection is closed.").
 */
export function isConnectionLost(err: unknown): boolean {
  if ((err as Error)?.name === 'MaxRetriesPerRequestError') return true;
  const message = errorMessage(err);
  return message === 'Connection is closed.' || (message.startsWith('Too many Cluster redirections') && message.endsWith('Connection is closed.'));
}

/** Refusals of a command Redis did not run because its node is changing roles or not ready yet. */
const NOT_RUN_UNAVAILABLE = /^(?:ReplyError: )?(CLUSTERDOWN|TRYAGAIN|READONLY|LOADING|MASTERDOWN) /;

/**
 * Redis refused the command without running it because of a failover or a restart, not because of the
 * command: a cluster whose slots change hands (CLUSTERDOWN, TRYAGAIN), a master demoted to replica while the
 * client still writes to it (READONLY), a node loading its data (LOADING), a replica cut off from its master
 * (MASTERDOWN). Said bare or as the last error of ioredis's cluster retries. Nothing was written: trying again
 * later may succeed.
 */
export function refusedWhileUnavailable(err: unknown): string | undefined {
  const message = errorMessage(err);
  const last = message.startsWith('Too many Cluster redirections. Last error: ') ? message.slice('Too many Cluster redirections. Last error: '.length) : message;
  return NOT_RUN_UNAVAILABLE.test(last) ? last.replace(/^ReplyError: /, '') : undefined;
}

/** An authentication or permission error: retrying will not help until an operator acts. */
export function isFatalRedisError(err: unknown): boolean {
  const fatal = (e: unknown) => /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(errorMessage(e));
  // One level down only: ioredis's previousErrors are the replies themselves (never nested).
  return fatal(err) || ((err as { previousErrors?: unknown[] })?.previousErrors ?? []).some(fatal);
}

/** A TLS certificate the client refuses (unknown CA, wrong host name, expired): a configuration error. */
export function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
}
