import { createRequire } from 'node:module';
import { InvalidOptionsError } from '../errors/invalid-options.error.js';

// Synchronous, so a missing package fails the server's or client's constructor (at bootstrap), not a later
// listen(). Both peers are fine to require: prom-client is CommonJS, and @opentelemetry/api keeps its
// registered SDK in a global, which its CommonJS and ESM builds share.
const requirePeer = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * Loads an optional peer dependency the first time an option needs it. Not installed: an
 * InvalidOptionsError naming the option and the install command.
 */
export function loadPeer<T>(name: string, option: string): T {
  let module = loaded.get(name);
  if (module === undefined) {
    try {
      module = requirePeer(name);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only the peer itself missing; a broken install of it (one of its own dependencies missing) is rethrown.
      const missing = (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${name}'`);
      if (!missing) throw err;
      throw new InvalidOptionsError(option, `needs the package "${name}", which is not installed: npm install ${name}`);
    }
    loaded.set(name, module);
  }
  return module as T;
}

/** The peer if something already loaded it (tracing on somewhere in the process), without loading it. */
export function loadedPeer<T>(name: string): T | undefined {
  return loaded.get(name) as T | undefined;
}
