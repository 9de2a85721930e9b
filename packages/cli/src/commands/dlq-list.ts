import type { Command } from 'commander';
import type { DeadLetterEntry } from '@nestream/transport/admin';
import type { GlobalOptions } from '../connection.js';
import { parsePositiveInt } from '../format/numbers.js';
import { isoSeconds, oneLine, previewData } from '../format/preview.js';
import { renderTable } from '../format/table.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';
import { deadLetterJson } from './dead-letter-json.js';

interface ListOptions {
  reason?: string;
  limit: number;
  json?: boolean;
}

export function registerDlqList(dlq: Command): void {
  dlq
    .command('list')
    .description("a stream's dead letters, oldest first: id, time, reason, attempts, error, payload")
    .argument('<stream>', 'the source stream (its dead letters are in <stream>:dlq)')
    .option('--reason <reason>', 'only this dlq.reason (max-attempts, unrecoverable, validation, decode, manual)')
    .option('--limit <n>', 'at most this many', parsePositiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (stream: string, opts: ListOptions, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const list = await admin.deadLetters.list(stream, { reason: opts.reason, limit: opts.limit });
        if (opts.json) {
          printJson('dead-letters', { stream: list.stream, deadLetterKey: list.deadLetterKey, total: list.total, more: list.more, entries: list.entries.map(deadLetterJson) });
          return;
        }
        const filter = opts.reason ? ` with reason ${opts.reason}` : '';
        if (list.entries.length === 0) {
          printLines([`No dead letters${filter} in ${list.deadLetterKey}${list.total > 0 ? ` (${list.total} in all)` : ''}.`]);
          return;
        }
        const redriven = list.entries.some(e => e.redrive);
        const rows = list.entries.map(e => [
          e.id,
          isoSeconds(e.failedAt),
          e.reason,
          String(e.attempts),
          ...(redriven ? [e.redrive ? String(e.redrive.count) : ''] : []),
          oneLine(errorText(e), 50),
          payloadText(e, 60),
        ]);
        const columns = [
          { header: 'ID' },
          { header: 'FAILED AT' },
          { header: 'REASON' },
          { header: 'ATTEMPTS', right: true },
          ...(redriven ? [{ header: 'REDRIVEN', right: true }] : []),
          { header: 'ERROR' },
          { header: 'PAYLOAD' },
        ];
        const lines = [`${list.deadLetterKey}: ${list.total} dead letter${list.total === 1 ? '' : 's'}${filter ? `, showing those${filter}` : ''}`, ...renderTable(columns, rows)];
        if (list.more) lines.push(`… more${filter}: raise --limit (now ${opts.limit})`);
        printLines(lines);
      });
    });
}

export function errorText(e: DeadLetterEntry): string {
  if (!e.error.name && !e.error.message) return '';
  return e.error.name ? `${e.error.name}: ${e.error.message}` : e.error.message;
}

/** The payload on one line: the decoded `data`, or what is wrong with the entry. */
export function payloadText(e: DeadLetterEntry, max: number): string {
  if (e.message) return previewData(e.message.data, max);
  return oneLine(`(undecodable) ${Object.entries(e.fields).map(([k, v]) => `${k}=${v}`).join(' ')}`, max);
}
