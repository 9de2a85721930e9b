/**
 * `instanceof` that survives the dual-package hazard. An app can load this package twice, once as
 * CommonJS (`require`) and once as ESM (`import`), e.g. when a CommonJS library and ESM code both use it;
 * each copy has its own classes, and a plain `instanceof` across copies is false (an
 * UnrecoverableEventError thrown from one copy would be retried by the other). A class marked here carries
 * a brand under a `Symbol.for` key, which is the same in every copy, and `instanceof` on the class checks it.
 * Subclasses keep the ordinary prototype check.
 */
export function brand(cls: abstract new (...args: never[]) => unknown, name: string): void {
  const key = Symbol.for(`@nestream/transport:${name}`);
  Object.defineProperty(cls.prototype, key, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return (typeof value === 'object' || typeof value === 'function') && value !== null && (value as Record<symbol, unknown>)[key] === true;
    },
  });
}
