import type { DeadLetter, GroupState } from './observer.js';
import type { Plan, Poison } from './plan.js';
import type { ExitInfo } from './service-process.js';

export interface RegisteredUser {
  id: string;
  email: string;
  bounces: boolean;
}

export interface PlacedOrder {
  id: string;
  customerEmail: string;
  /** When the demo sent `POST /orders` (ms since the epoch). */
  sentAt: number;
  poison?: Poison;
}

/** What the demo did and what it found afterwards: the input of the summary and of the checks. */
export interface RunReport {
  plan: Plan;
  users: RegisteredUser[];
  orders: PlacedOrder[];
  /** The id inside the invalid event the demo wrote with a plain XADD (a producer that skips validation). */
  legacyOrderId: string;
  startedAt: number;
  firstRequestAt: number;
  orderStates: Record<string, number>;
  settledAt: Map<string, number>;
  accounts: { opened: number; wrongCredit: number };
  outboxBacklog: number;
  stockBefore: Map<string, number>;
  stockAfter: Map<string, number>;
  reservations: { decided: number; reservedBySku: Map<string, number>; onRedelivery: number };
  sentMails: { sent: number; onRedelivery: number };
  mailsReceived: Array<{ to: string[]; subject: string; messageId: string }>;
  smtpTemporaryFailures: number;
  smtpBounces: number;
  groups: GroupState[];
  deadLetters: DeadLetter[];
  eventsWritten: number;
  kill: { replica: string; pendingAtKill: number; consumersAfter: string[] };
  shutdown: Array<{ name: string; exit: ExitInfo; stoppedCleanly: boolean }>;
}
