import { decode, DEAD_LETTER_FIELDS } from '@nestream/transport';
import { deadLetterKeyOf as serverDeadLetterKey, defaultDeadLetterKey, type ResolvedServerOptions } from '@nestream/transport/internal';
import type { BedDeadLetter, BedEntry } from './test-bed.js';

/** A stream entry's flat field list as a map. */
export function fieldMap(fields: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]] = fields[i + 1];
  return map;
}

/** An entry as the beds show it: decoded where it can be, else its raw `data`. */
export function bedEntry(stream: string, id: string, fields: string[]): BedEntry {
  const map = fieldMap(fields);
  const message = tryDecode(fields);
  return { stream, id, data: message ? message.data : map.data, headers: message?.headers ?? {}, fields: map };
}

/** A dead-letter entry as the beds show it, from the fields the dead-letter move wrote. */
export function bedDeadLetter(fields: string[]): BedDeadLetter {
  const f = DEAD_LETTER_FIELDS;
  const map = fieldMap(fields);
  const message = tryDecode(fields);
  return {
    stream: map[f.stream], id: map[f.id], reason: map[f.reason],
    error: { name: map[f.errorName], message: map[f.errorMessage] },
    attempts: Number(map[f.attempts]), group: map[f.group], consumer: map[f.consumer], failedAt: map[f.failedAt],
    data: message ? message.data : map.data, fields: map,
  };
}

/** The dead-letter stream of `stream`: as the server reading it names it (`deadLetter.key`), else `<stream>:dlq`. */
export function deadLetterKeyOf(servers: Array<{ options: ResolvedServerOptions; streams: string[] }>, stream: string): string {
  for (const server of servers) {
    const key = server.streams.includes(stream) ? serverDeadLetterKey(server.options.deadLetter, stream) : undefined;
    if (key !== undefined) return key;
  }
  return defaultDeadLetterKey(stream);
}

function tryDecode(fields: string[]) {
  try {
    return decode(fields);
  } catch {
    return undefined;
  }
}
