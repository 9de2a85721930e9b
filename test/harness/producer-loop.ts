import type { RedisStreamsClient } from '@nestream/transport';
import { lastValueFrom } from 'rxjs';
import { waitFor } from './wait.js';

/** A producer that keeps emitting `{ n }` (n = 0, 1, ...) and retries what rejected, as a user's producer would. */
export interface ProducerLoop {
  /** Every n whose emit resolved: what the producer was told is in Redis (with durability: on a replica too). */
  readonly resolved: Set<number>;
  /** Rejected emits by error name, with one message of each kind. */
  readonly rejections: Map<string, { count: number; sample: string }>;
  /** How many emits rejected, all kinds. */
  rejected(): number;
  /** Waits until `count` more emits have resolved than when called. */
  resolveMore(count: number, what: string, timeoutMs?: number): Promise<void>;
  /** Stops emitting; waits for the emits in flight. A rejected n not retried yet stays unresolved. */
  stop(): Promise<void>;
  /** One line for the test's log: resolved, rejected, by kind. */
  summary(): string;
}

/** Runs `inFlight` emits at a time on `pattern` until stopped; a rejected n is emitted again after `retryDelayMs`. */
export function startProducer(client: RedisStreamsClient, pattern: string, { inFlight = 4, retryDelayMs = 50 } = {}): ProducerLoop {
  const resolved = new Set<number>();
  const rejections = new Map<string, { count: number; sample: string }>();
  const retry: number[] = [];
  let next = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      const n = retry.shift() ?? next++;
      try {
        await lastValueFrom(client.emit(pattern, { n }));
        resolved.add(n);
      } catch (e) {
        const err = e as Error;
        const kind = rejections.get(err.name) ?? { count: 0, sample: err.message };
        kind.count++;
        rejections.set(err.name, kind);
        retry.push(n);
        // The producer's backoff before it retries (a pause in the producer, not a wait for a condition).
        await new Promise(r => setTimeout(r, retryDelayMs));
      }
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  const rejected = () => [...rejections.values()].reduce((sum, k) => sum + k.count, 0);
  return {
    resolved,
    rejections,
    rejected,
    async resolveMore(count, what, timeoutMs = 30_000) {
      const target = resolved.size + count;
      await waitFor(() => resolved.size >= target, what, timeoutMs);
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
    summary() {
      const kinds = [...rejections].map(([name, k]) => `${k.count} x ${name} (e.g. "${k.sample}")`);
      return `${resolved.size} emits resolved, ${rejected()} rejected and retried${kinds.length ? `: ${kinds.join('; ')}` : ''}`;
    },
  };
}
