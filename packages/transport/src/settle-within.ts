/** Resolves true once `promise` resolves, false if `ms` pass first (a rejection passes through). */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}
