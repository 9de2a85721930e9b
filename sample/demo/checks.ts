import { POISON_REASON } from './plan.js';
import type { RunReport } from './report.js';

export interface Check {
  ok: boolean;
  text: string;
}

/** How many mails carry each Message-ID (the mailer derives it from the mail's key: `welcome.<user>`, `order.<order>`). */
function mailsByMessageId(report: RunReport): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of report.mailsReceived) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1);
  return counts;
}

const messageId = (key: string) => `<${key}@nestream-sample.example>`;

/** The checks of a run; the demo passes only if every one holds. */
export function checkRun(r: RunReport): Check[] {
  const mails = mailsByMessageId(r);
  const deliverable = r.users.filter(u => !u.bounces);
  const bouncing = r.users.filter(u => u.bounces);
  const welcomeCounts = deliverable.map(u => mails.get(messageId(`welcome.${u.id}`)) ?? 0);
  const orderMailCounts = r.orders.map(o => mails.get(messageId(`order.${o.id}`)) ?? 0);
  const settled = (r.orderStates.confirmed ?? 0) + (r.orderStates.rejected ?? 0) + (r.orderStates.failed ?? 0);
  const poisoned = r.orders.filter(o => o.poison);

  const expectedLetters = [
    ...bouncing.map(u => `user.registered:dlq ${u.id} ${POISON_REASON.bounce}`),
    ...poisoned.map(o => `order.placed:dlq ${o.id} ${POISON_REASON[o.poison!]}`),
    `order.placed:dlq ${r.legacyOrderId} ${POISON_REASON['legacy-invalid']}`,
  ].sort();
  const actualLetters = r.deadLetters
    .map(d => `${d.stream} ${String(d.payload?.userId ?? d.payload?.orderId ?? '?')} ${d.reason}`)
    .sort();

  const stockAddsUp = [...r.stockBefore].every(([sku, before]) => r.stockAfter.get(sku) === before - (r.reservations.reservedBySku.get(sku) ?? 0));
  const busy = r.groups.filter(g => !g.idle);
  const unclean = r.shutdown.filter(s => !s.stoppedCleanly);
  const inventoryOrders = r.orders.filter(o => !o.poison).length;

  return [
    { ok: r.accounts.opened === r.users.length && r.accounts.wrongCredit === 0, text: `every user has exactly one account with one welcome credit (${r.accounts.opened} of ${r.users.length})` },
    {
      ok: welcomeCounts.every(n => n === 1) && bouncing.every(u => (mails.get(messageId(`welcome.${u.id}`)) ?? 0) === 0),
      text: `every deliverable user got exactly one welcome e-mail (${welcomeCounts.filter(n => n === 1).length} of ${deliverable.length}); the ${bouncing.length} at bounce.example none`,
    },
    { ok: settled === r.orders.length, text: `every order reached exactly one final state (${settled} of ${r.orders.length})` },
    { ok: orderMailCounts.every(n => n === 1), text: `every order's customer got exactly one e-mail about it (${orderMailCounts.filter(n => n === 1).length} of ${r.orders.length})` },
    { ok: r.reservations.decided === inventoryOrders && stockAddsUp, text: `the inventory decided each order once and the stock adds up (${r.reservations.decided} decisions)` },
    {
      ok: JSON.stringify(expectedLetters) === JSON.stringify(actualLetters),
      text: `dead letters are exactly the ${expectedLetters.length} injected cases (found ${actualLetters.length})`,
    },
    { ok: busy.length === 0 && r.groups.length > 0, text: `nothing pending or undelivered in any of the ${r.groups.length} consumer groups${busy.length ? ` (busy: ${busy.map(g => `${g.stream}/${g.group}`).join(', ')})` : ''}` },
    { ok: r.outboxBacklog === 0, text: `both outboxes are empty (${r.outboxBacklog} waiting)` },
    { ok: r.smtpTemporaryFailures > 0 && r.reservations.onRedelivery > 0, text: `failures were retried: ${r.smtpTemporaryFailures} refused mails sent again, ${r.reservations.onRedelivery} orders decided on a later delivery` },
    {
      ok: r.kill.consumersAfter.length === 2 && r.kill.consumersAfter.includes(r.kill.replica),
      text: `${r.kill.replica}, SIGKILLed with ${r.kill.pendingAtKill} entries pending, came back under its name (inventory consumers: ${r.kill.consumersAfter.join(', ')})`,
    },
    { ok: unclean.length === 0, text: `every service stopped cleanly on SIGTERM${unclean.length ? ` (not: ${unclean.map(s => s.name).join(', ')})` : ''}` },
  ];
}
