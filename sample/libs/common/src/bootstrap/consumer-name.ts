import { hostname } from 'node:os';

/**
 * The default consumer name of a service instance: `<group>-<hostname>-<pid>`. Unique per process on one host, and
 * stable across restarts of one container (same hostname, pid 1), so a restarted container takes back its own
 * pending entries at once. Set CONSUMER_NAME to choose it (the demo restarts a killed replica under its name).
 */
export function consumerName(group: string, configured?: string): string {
  return configured || `${group}-${hostname()}-${process.pid}`;
}
