import type { Redis } from 'ioredis';

/**
 * The least-privilege ACL rules the security guide (docs/guide/security.md) lists, as data: what acl.spec.ts creates users with (whole, and
 * with each command taken out in turn), and what it checks the guide says word for word.
 * A rule is either the user's root permissions (commands without keys) or a Redis 7 selector: commands
 * allowed only on keys matching the patterns.
 */
export interface AclRule {
  /** What the rule is for, as the guide's table says it. */
  purpose: string;
  commands: string[];
  /** Key patterns (a selector); none for root commands such as MULTI. */
  keys?: string[];
}

/** Every role's connection: ioredis's ready check (INFO) and connection names (CLIENT SETNAME). */
export const CONNECTION_COMMANDS = ['+info', '+client|setname'];

/** A consumer reading `streams` (one pattern, or each stream), dead-lettering to `<stream>:dlq`. */
export function consumerRules(streams: string, options: { replyPrefix?: string; consumerCleanup?: boolean } = {}): AclRule[] {
  const rules: AclRule[] = [
    {
      purpose: 'read, ack, retry, claim, create the group, dead-letter moves (a script)',
      commands: ['+xreadgroup', '+xack', '+xclaim', '+xautoclaim', '+xpending', '+xgroup|create', '+xrange', '+xlen', '+evalsha', '+eval'],
      keys: [streams],
    },
    { purpose: 'dead letters', commands: ['+xadd'], keys: [`${streams}:dlq`] },
    { purpose: 'failed attempts, told from crashed ones (retry.maxInterruptions)', commands: ['+hincrby', '+pexpire', '+hmget', '+hdel'], keys: [`${streams}:failures`] },
  ];
  if (options.replyPrefix !== undefined) {
    rules.unshift({ purpose: 'reply writes are transactions', commands: ['+multi', '+exec'] });
    rules.push({ purpose: 'replies (@MessagePattern)', commands: ['+xadd', '+expire'], keys: [`${options.replyPrefix}*`] });
  }
  if (options.consumerCleanup) {
    rules.push({ purpose: 'consumerCleanup', commands: ['+xinfo|consumers', '+xgroup|delconsumer'], keys: [streams] });
  }
  return rules;
}

/**
 * What a consumer of partitioned patterns among `streams` needs besides consumerRules(): the partition counts,
 * and with `ordered`, the partitions' leases and the group's membership set (its heartbeat script reads TIME).
 */
export function partitionConsumerRules(streams: string, options: { ordered?: boolean; group?: string } = {}): AclRule[] {
  const group = options.group ?? 'g';
  const rules: AclRule[] = [{ purpose: 'record the partition counts', commands: ['+get', '+set'], keys: [`nestream:partitions:${streams}`] }];
  if (options.ordered) {
    rules.push(
      { purpose: 'the heartbeat script reads the clock of Redis', commands: ['+time'] },
      { purpose: 'partition leases and their generations', commands: ['+set', '+get', '+pexpire', '+incrby'], keys: [`${streams}:owner*`] },
      {
        purpose: 'the group\'s membership set',
        commands: ['+evalsha', '+eval', '+zadd', '+zremrangebyscore', '+zcard', '+zrem'],
        keys: [`nestream:partition-consumers:${Buffer.byteLength(group)}:${group}:${streams}`],
      },
    );
  }
  return rules;
}

/**
 * A producer writing `streams` with emit() (and emitMany(), a script; with durability, confirmed by WAIT); it
 * reads each pattern's partition count.
 */
export function producerRules(streams: string, options: { emitMany?: boolean; durability?: boolean } = {}): AclRule[] {
  const rules: AclRule[] = [
    { purpose: 'emit', commands: options.emitMany ? ['+xadd', '+evalsha', '+eval'] : ['+xadd'], keys: [streams] },
    { purpose: 'partition counts', commands: ['+get'], keys: [`nestream:partitions:${streams}`] },
  ];
  if (options.durability) rules.push({ purpose: 'durable writes', commands: ['+wait'] });
  return rules;
}

/** A request-reply client: a producer that also reads its own reply stream. */
export function requesterRules(streams: string, replyPrefix = 'nestream:replies:'): AclRule[] {
  return [...producerRules(streams), { purpose: 'read its replies', commands: ['+xread', '+xtrim'], keys: [`${replyPrefix}*`] }];
}

/** A rule as ACL SETUSER takes it: root commands as they are, a selector in parentheses. */
export function aclText(rule: AclRule): string {
  return rule.keys ? `(${rule.keys.map(k => `~${k}`).join(' ')} ${rule.commands.join(' ')})` : rule.commands.join(' ');
}

/** The ACL SETUSER arguments for a user with these rules and nothing else. */
export function setUserArgs(name: string, password: string, rules: AclRule[]): string[] {
  const root = [...CONNECTION_COMMANDS, ...rules.filter(r => !r.keys).flatMap(r => r.commands)];
  const selectors = rules.filter(r => r.keys).map(aclText);
  return [name, 'reset', 'on', `>${password}`, 'resetkeys', 'resetchannels', '-@all', ...root, ...selectors];
}

/** (Re)creates the user on the admin connection. */
export async function setUser(admin: Redis, name: string, password: string, rules: AclRule[]): Promise<void> {
  await admin.call('ACL', 'SETUSER', ...setUserArgs(name, password, rules));
}

/**
 * The rules with one command taken out of one rule, for each command of each rule (from rule `from` on):
 * [command, key, rules].
 */
export function eachWithoutOne(rules: AclRule[], from = 0): Array<[command: string, key: string, rules: AclRule[]]> {
  const variants: Array<[string, string, AclRule[]]> = [];
  rules.forEach((rule, i) => {
    if (i < from) return;
    for (const command of rule.commands) {
      const without = rules.map((r, j) => (j === i ? { ...r, commands: r.commands.filter(c => c !== command) } : r));
      variants.push([command.slice(1).replace('|', ' ').toUpperCase(), rule.keys?.[0] ?? '', without.filter(r => r.commands.length > 0)]);
    }
  });
  return variants;
}
