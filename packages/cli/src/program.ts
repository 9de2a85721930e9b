import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerBoard } from './commands/board.js';
import { registerConsumersPrune } from './commands/consumers-prune.js';
import { registerGroupsCreate } from './commands/groups-create.js';
import { registerGroupsReset } from './commands/groups-reset.js';
import { registerDlqList } from './commands/dlq-list.js';
import { registerDlqPurge } from './commands/dlq-purge.js';
import { registerDlqRedrive } from './commands/dlq-redrive.js';
import { registerDlqShow } from './commands/dlq-show.js';
import { registerScheduled } from './commands/scheduled.js';
import { registerStatus } from './commands/status.js';
import { registerTail } from './commands/tail.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const EXAMPLES = `
Examples:
  nestream status --url redis://localhost:6379
  nestream status --watch
  nestream dlq list orders.created --reason max-attempts
  nestream dlq show orders.created 1718000000000-0
  nestream dlq redrive orders.created --all --reason max-attempts --dry-run
  nestream dlq purge orders.created --older-than 7d
  nestream consumers prune orders.created billing --idle 1h
  nestream groups reset orders.created billing --to 2h --dry-run
  nestream groups create orders.created audit --from start
  nestream scheduled list reminders.due
  nestream tail orders.created
  nestream board --port 8080 --allow-writes

Streams are named as in @EventPattern (the key prefix is added). Exit codes: 0 done, 1 failed, 2 bad usage.`;

/** The `nestream` command and its subcommands. Errors are thrown (exitOverride), main.ts reports them. */
export function createProgram(): Command {
  const program = new Command('nestream')
    .description('Operate nestream (Redis Streams for NestJS): status, dead letters, consumers, groups, scheduled emits, tail, web board')
    .version(version)
    .option('--url <url>', 'Redis URL (default: $REDIS_URL, else redis://127.0.0.1:6379)')
    .option('--cluster', 'the URL is a node of a Redis Cluster: read every master (without it, the CLI asks the node and does so on a cluster node)')
    .option('--config <file>', 'JSON file: { "connection": <URL or ioredis options>, "keyPrefix": "...", "deadLetterSuffix": ":dlq" }')
    .option('--prefix <keyPrefix>', "the transport's keyPrefix (default: the config file's, else none)")
    .exitOverride()
    .showSuggestionAfterError()
    // One line per error: commander puts its "(Did you mean ...?)" on a line of its own.
    .configureOutput({ outputError: (text, write) => write(`${text.trimEnd().replace(/\n/g, ' ')}\n`) })
    .addHelpText('after', EXAMPLES);

  registerStatus(program);
  const dlq = program.command('dlq').description('dead letters: list, show, redrive, purge');
  registerDlqList(dlq);
  registerDlqShow(dlq);
  registerDlqRedrive(dlq);
  registerDlqPurge(dlq);
  const consumers = program.command('consumers').description('consumers of a group: prune');
  registerConsumersPrune(consumers);
  const groups = program.command('groups').description('consumer groups: reset (rewind or skip), create at a point in history');
  registerGroupsReset(groups);
  registerGroupsCreate(groups);
  registerScheduled(program);
  registerTail(program);
  registerBoard(program);
  return program;
}
