import { InvalidOptionsError } from '../errors/invalid-options.error.js';

const loaded = new Map<string, Record<string, unknown>>();

/**
 * Loads an optional peer dependency when an option needs it, with `import()`: resolved from this package's
 * own location in both of its builds (ESM and CommonJS), and never loaded while the option is off. Not
 * installed: an InvalidOptionsError naming the option and the install command.
 */
export async function loadPeer(name: string, option: string): Promise<Record<string, unknown>> {
  let module = loaded.get(name);
  if (!module) {
    try {
      module = (await import(name)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only the peer itself missing; a broken install of it (one of its own dependencies missing) is rethrown.
      const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${name}'`);
      if (!missing) throw err;
      throw new InvalidOptionsError(option, `needs the package "${name}", which is not installed: npm install ${name}`);
    }
    loaded.set(name, module);
  }
  return module;
}

/** The peer if an option already loaded it (tracing on somewhere in the process), without loading it. */
export function loadedPeer(name: string): Record<string, unknown> | undefined {
  return loaded.get(name);
}

/** A CommonJS package's exports, whether `import()` wrapped them (ESM: under `default`) or not. */
export function commonJsExports<T>(module: Record<string, unknown>): T {
  return (module.default ?? module) as T;
}
