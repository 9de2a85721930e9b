import type { DeadLetter } from './observer.js';
import type { RunReport } from './report.js';
import { dim, out } from './terminal.js';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Prints what the run did, from the report. */
export function printSummary(r: RunReport): void {
  const bouncing = r.users.filter(u => u.bounces).length;
  const s = r.orderStates;
  const latencies = r.orders
    .map(o => (r.settledAt.get(o.id) ?? NaN) - o.sentAt)
    .filter(ms => Number.isFinite(ms))
    .sort((a, b) => a - b);
  const lastSettled = Math.max(...r.settledAt.values());
  const seconds = (lastSettled - r.firstRequestAt) / 1000;

  out(`  users            ${r.users.length} registered (${bouncing} at bounce.example); ${r.accounts.opened} accounts opened`);
  out(
    `  e-mails          ${r.mailsReceived.length} accepted by the SMTP sink; ${r.smtpTemporaryFailures} refused for now (451) and sent again;` +
      ` ${r.smtpBounces} refused for good (550)`,
  );
  out(`  orders           ${r.orders.length} placed: ${s.confirmed ?? 0} confirmed, ${s.rejected ?? 0} rejected (out of stock), ${s.failed ?? 0} failed (dead-lettered)`);
  out(`  redeliveries     inventory: ${r.reservations.onRedelivery} orders decided on a later delivery; mailer: ${r.sentMails.onRedelivery} mails sent on a later delivery`);
  out(`  dead letters     ${r.deadLetters.length}, by stream and reason (one example each):`);
  const groups = new Map<string, DeadLetter[]>();
  for (const d of r.deadLetters) groups.set(`${d.stream} ${d.reason}`, [...(groups.get(`${d.stream} ${d.reason}`) ?? []), d]);
  for (const letters of groups.values()) {
    const [first] = letters;
    out(`    ${first!.stream.padEnd(20)} ${first!.reason.padEnd(13)} x${letters.length}  after ${first!.attempts} attempt(s)  ${dim(first!.error)}`);
  }
  out(
    `  throughput       ${r.eventsWritten} events in ${seconds.toFixed(1)} s: ${Math.round(r.eventsWritten / seconds)} events/s;` +
      ` POST /orders to final state p50 ${Math.round(percentile(latencies, 50))} ms, p99 ${Math.round(percentile(latencies, 99))} ms (at full load)`,
  );
  out('  consumer groups  (XINFO GROUPS)');
  for (const g of r.groups) {
    out(`    ${g.stream.padEnd(20)} group ${g.group.padEnd(10)} pending ${g.pending}  lag ${g.lag}  consumers ${g.consumers}`);
  }
}
