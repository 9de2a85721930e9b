import type { Command } from 'commander';
import type { GroupPosition } from '@nestream/transport/admin';
import type { GlobalOptions } from '../connection.js';
import { describePosition, parsePosition } from '../format/position.js';
import { printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';
import { moveTable, moveTotals } from './group-move-report.js';

interface CreateCliOptions {
  from: GroupPosition;
  dryRun?: boolean;
  json?: boolean;
}

export function registerGroupsCreate(groups: Command): void {
  groups
    .command('create')
    .description('create a consumer group that starts at a point in history (every partition of a partitioned pattern)')
    .argument('<stream>', 'the stream')
    .argument('<group>', 'the new consumer group')
    .option('--from <position>', 'start, end, an entry id, a time (2026-12-07T09:00:00Z) or a duration ago (2h)', text => parsePosition(text), 'end' as GroupPosition)
    .option('--dry-run', 'count what the group would be given, create nothing')
    .option('--json', 'print JSON')
    .action(async (stream: string, group: string, opts: CreateCliOptions, command: Command) => {
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const result = await admin.createGroup(stream, group, { from: opts.from, dryRun: opts.dryRun });
        const totals = moveTotals(result);
        const summary = `${totals.capped ? 'at least ' : ''}${totals.toDeliver} entries to deliver from ${describePosition(opts.from)}`;
        if (opts.json) printJson('group-move', { ...result, from: describePosition(opts.from) });
        else printLines([...moveTable(result), result.dryRun ? `Dry run: group ${group} of ${stream} would get ${summary}.` : `Group ${group} of ${stream} created: ${summary}.`]);
      });
    });
}
