/** Name and message of anything a handler may throw (Errors, RpcException payloads, strings). */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) {
    // Classes that do not set `name` (Nest's RpcException, many user errors) still say what they are.
    const name = error.name === 'Error' && error.constructor?.name ? error.constructor.name : error.name;
    return { name, message: error.message };
  }
  if (typeof error === 'object' && error !== null) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? message : safeJson(error),
    };
  }
  return { name: 'Error', message: String(error) };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
