import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import type { GlobalOptions } from '../connection.js';
import { parsePositiveInt } from '../format/numbers.js';
import { isoSeconds, oneLine } from '../format/preview.js';
import { renderTable } from '../format/table.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';

/** `nestream scheduled list|cancel`: delayed emits waiting for their time. */
export function registerScheduled(program: Command): void {
  const scheduled = program.command('scheduled').description('delayed emits (setDelay, setDeliverAt) waiting for their time: list, cancel');
  scheduled
    .command('list')
    .description("a stream's delayed emits, due soonest first")
    .argument('<stream>', 'the stream (every partition of a partitioned pattern)')
    .option('--limit <n>', 'at most this many', parsePositiveInt, 50)
    .option('--json', 'print JSON')
    .action(async (stream: string, opts: { limit: number; json?: boolean }, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const list = await admin.scheduled(stream, { limit: opts.limit });
        if (opts.json) {
          printJson('scheduled', { ...list });
          return;
        }
        if (list.total === 0) {
          printLines([`No delayed emits waiting for ${stream}.`]);
          return;
        }
        const rows = list.entries.map(e => [e.id, isoSeconds(e.dueAt), e.key, oneLine(e.fields.data ?? '', 60)]);
        const lines = [`${stream}: ${list.total} delayed emit${list.total === 1 ? '' : 's'} waiting`, ...renderTable([{ header: 'ID' }, { header: 'DUE AT' }, { header: 'STREAM' }, { header: 'PAYLOAD' }], rows)];
        if (list.total > list.entries.length) lines.push(`… ${list.total - list.entries.length} more: raise --limit (now ${opts.limit})`);
        printLines(lines);
      });
    });
  scheduled
    .command('cancel')
    .description('cancel a delayed emit before it enters its stream')
    .argument('<stream>', 'the stream')
    .argument('<id>', 'the schedule id (sched-...), as the emit resolved with it or scheduled list shows it')
    .option('--json', 'print JSON')
    .action(async (stream: string, id: string, opts: { json?: boolean }, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const cancelled = await admin.cancelScheduled(stream, id);
        if (opts.json) printJson('scheduled-cancel', { stream, id, cancelled });
        else if (cancelled) printLines([`Cancelled ${id}: it will not enter ${stream}.`]);
        else throw new CliError(`${id} is not waiting in ${stream}'s schedule (it entered the stream, was cancelled, or never existed)`);
      });
    });
}
