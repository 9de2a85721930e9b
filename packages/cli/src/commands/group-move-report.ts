import type { GroupMoveResult } from '@nestream/transport/admin';
import { formatDuration } from '../format/duration.js';
import { renderTable } from '../format/table.js';

/** The table of a `groups reset` or `groups create`: one row per stream (per partition of a partitioned pattern). */
export function moveTable(result: GroupMoveResult): string[] {
  const atLeast = (n: number, capped: boolean) => (capped && n > 0 ? `>=${n}` : String(n));
  return renderTable(
    [
      { header: 'STREAM' },
      { header: 'FROM' },
      { header: 'TO' },
      { header: 'AGAIN', right: true },
      { header: 'SKIPPED', right: true },
      { header: 'TO DELIVER', right: true },
      { header: 'PENDING', right: true },
    ],
    result.moves.map(m => [
      m.key,
      m.fromId ?? '(new)',
      m.toId,
      atLeast(m.redelivered, m.countsCapped),
      atLeast(m.skipped, m.countsCapped),
      atLeast(m.toDeliver, m.countsCapped),
      String(m.pending),
    ]),
  );
}

/** Totals of a move, in one sentence. */
export function moveTotals(result: GroupMoveResult): { again: number; skipped: number; toDeliver: number; capped: boolean } {
  return {
    again: result.moves.reduce((n, m) => n + m.redelivered, 0),
    skipped: result.moves.reduce((n, m) => n + m.skipped, 0),
    toDeliver: result.moves.reduce((n, m) => n + m.toDeliver, 0),
    capped: result.moves.some(m => m.countsCapped),
  };
}

/** The warning when consumers of the group are running: they read from the new position at once. */
export function liveWarning(result: GroupMoveResult): string | undefined {
  if (result.liveConsumers.length === 0) return undefined;
  const names = [...new Set(result.liveConsumers.map(c => `${c.name} (seen ${formatDuration(c.idleMs)} ago)`))];
  return `warning: group ${result.group} has live consumers: ${names.join(', ')}; they read from the new position at their next read`;
}
