import { brand } from '../src/brand.js';

// Two copies of one class, as when the ESM and the CommonJS builds of the package are both loaded.
function loadCopy() {
  class Unrecoverable extends Error {
    static {
      brand(this, 'TestUnrecoverable');
    }
  }
  return Unrecoverable;
}

describe('brand', () => {
  const A = loadCopy();
  const B = loadCopy();

  it('makes instanceof true across copies of a class', () => {
    expect(A).not.toBe(B);
    expect(new B('x') instanceof A).toBe(true);
    expect(new A('x') instanceof B).toBe(true);
  });

  it('is false for anything else', () => {
    expect(new Error('x') instanceof A).toBe(false);
    expect(({}) instanceof A).toBe(false);
    const primitives: unknown[] = [null, undefined, 'x', 1];
    for (const value of primitives) expect((value as object) instanceof A).toBe(false);
  });

  it('keeps subclasses ordinary: an instance of the base is not an instance of a subclass', () => {
    class Sub extends A {}
    expect(new Sub('x') instanceof A).toBe(true);
    expect(new Sub('x') instanceof B).toBe(true);
    expect(new A('x') instanceof Sub).toBe(false);
    expect(new Sub('x') instanceof Sub).toBe(true);
  });
});
