import type { Command } from 'commander';
import type { GroupPosition } from '@nestream/transport/admin';
import { CliError, usageError } from '../cli-error.js';
import { confirm } from '../confirm.js';
import type { GlobalOptions } from '../connection.js';
import { describePosition, parsePosition } from '../format/position.js';
import { note, printJson, printLines } from '../output.js';
import { withAdmin } from '../session.js';
import { liveWarning, moveTable, moveTotals } from './group-move-report.js';

interface ResetCliOptions {
  to: GroupPosition;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerGroupsReset(groups: Command): void {
  groups
    .command('reset')
    .description("move a group's position: back to run entries again, or forward to skip them (asks first on a terminal; --yes otherwise)")
    .argument('<stream>', 'the stream (every partition of a partitioned pattern)')
    .argument('<group>', 'the consumer group')
    .requiredOption('--to <position>', 'start, end, an entry id, a time (2026-12-07T09:00:00Z) or a duration ago (2h): entries from there on are delivered', text => parsePosition(text))
    .option('--yes', 'do not ask (required when stdin is not a terminal)')
    .option('--dry-run', 'count what would be delivered again or skipped, change nothing')
    .option('--json', 'print JSON')
    .action(async (stream: string, group: string, opts: ResetCliOptions, command: Command) => {
      const interactive = process.stdin.isTTY === true;
      if (!opts.yes && !opts.dryRun && !interactive) throw usageError('groups reset changes what a group reads: pass --yes to confirm (stdin is not a terminal to ask on)');
      await withAdmin(command.optsWithGlobals<GlobalOptions>(), async admin => {
        const planned = await admin.resetGroup(stream, group, { to: opts.to, dryRun: true });
        const totals = moveTotals(planned);
        const warning = liveWarning(planned);
        const summary = `${totals.capped ? 'at least ' : ''}${totals.again} entries delivered again, ${totals.skipped} skipped, ${totals.toDeliver} to deliver from ${describePosition(opts.to)}`;
        if (opts.dryRun) {
          if (opts.json) printJson('group-move', { ...planned, to: describePosition(opts.to) });
          else printLines([...moveTable(planned), `Dry run: group ${group} of ${stream} would have ${summary}.`]);
          if (warning) note(warning);
          return;
        }
        if (warning) note(warning);
        if (!opts.yes && !(await confirm(`Reset group ${group} of ${stream}: ${summary}? [y/N] `))) throw new CliError('aborted: nothing changed');
        const result = await admin.resetGroup(stream, group, { to: opts.to });
        if (opts.json) printJson('group-move', { ...result, to: describePosition(opts.to) });
        else printLines([...moveTable(result), `Group ${group} of ${stream} reset: ${summary}.`]);
      });
    });
}
