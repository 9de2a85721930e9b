/**
 * Checks of the request-reply fields, which make the server write to Redis: `rt` (the reply stream), `cid`
 * (echoed in each reply) and `dl` (decides whether the handler runs). Each returns what is wrong, or undefined.
 * Messages never quote more than a short prefix of the value: a 1 MB field must not reach logs whole.
 */

/** Longest `cid`, and longest client id after the reply prefix in `rt`. A UUID has 36 characters. */
export const MAX_ID_LENGTH = 128;

// A-Z a-z 0-9 . _ : / + = -: UUIDs, ULIDs, nanoids, base64 and base64url ids fit; spaces, control characters,
// quotes, braces (Redis Cluster hash tags) and non-ASCII do not. Searching for a character outside the
// alphabet is the fastest check measured (a charCodeAt loop over a lookup table and an anchored regex are slower).
const OUTSIDE_ID_ALPHABET = /[^A-Za-z0-9._:/+=-]/;

/** Why `value` (from `from` on) is not an id of 1..MAX_ID_LENGTH characters of the id alphabet, or undefined. */
function idProblem(value: string, from = 0): string | undefined {
  const length = value.length - from;
  if (length < 1) return 'is empty';
  if (length > MAX_ID_LENGTH) return `is longer than ${MAX_ID_LENGTH} characters (${length})`;
  const rest = from === 0 ? value : value.slice(from);
  if (OUTSIDE_ID_ALPHABET.test(rest)) return `has a character outside A-Z a-z 0-9 . _ : / + = - (${show(value)})`;
  return undefined;
}

/**
 * `cid` of a request (an entry with `rt`): an id, since the server echoes it into every reply. An event's `cid`
 * is only length-checked (`correlationIdLengthProblem`): nothing echoes or acts on it, and the character
 * check would be most of decode()'s added cost for small events.
 */
export function correlationIdProblem(cid: string): string | undefined {
  return idProblem(cid);
}

/** `cid` of an event: 1..MAX_ID_LENGTH characters, whatever they are. */
export function correlationIdLengthProblem(cid: string): string | undefined {
  if (cid.length === 0) return 'is empty';
  return cid.length > MAX_ID_LENGTH ? `is longer than ${MAX_ID_LENGTH} characters (${cid.length})` : undefined;
}

/** `rt` must name a stream in the client reply namespace: `<replyPrefix><client id>`. */
export function replyToProblem(replyTo: string, replyPrefix: string): string | undefined {
  if (!replyTo.startsWith(replyPrefix)) return `is not a reply stream (must start with "${replyPrefix}"): ${show(replyTo)}`;
  const problem = idProblem(replyTo, replyPrefix.length);
  return problem && `has a client id that ${problem}`;
}

const DEADLINE = /^[1-9][0-9]{0,15}$/;

/** `dl`: when the caller stops waiting, in ms since the epoch: a positive integer, no sign, exponent or fraction. */
export function parseDeadline(dl: string): number | undefined {
  if (!DEADLINE.test(dl)) return undefined;
  const n = Number(dl);
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** A value for an error message: at most 40 characters of it, JSON-quoted (control characters escaped). */
export function show(value: string): string {
  return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}... (${value.length} characters)` : JSON.stringify(value);
}
