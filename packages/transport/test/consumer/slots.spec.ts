import { Slots } from '../../src/consumer/slots.js';

describe('Slots', () => {
  it('should take no more than are free', () => {
    const slots = new Slots(3);
    expect(slots.take(2)).toBe(2);
    expect(slots.take(5)).toBe(1);
    expect(slots.free).toBe(0);
  });

  it('should wake one waiter per freed slot, in order', async () => {
    const slots = new Slots(1);
    slots.take(1);
    const woken: number[] = [];
    const waits = [1, 2, 3].map(i => slots.whenFree().then(() => woken.push(i)));
    slots.release(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(woken).toEqual([1]);
    slots.take(1);
    slots.release(1);
    slots.take(1);
    slots.release(1);
    await Promise.all(waits);
    expect(woken).toEqual([1, 2, 3]);
  });

  it('should resolve whenIdle once every slot is back', async () => {
    const slots = new Slots(2);
    slots.take(2);
    let idle = false;
    const done = slots.whenIdle().then(() => (idle = true));
    slots.release(1);
    await Promise.resolve();
    expect(idle).toBe(false);
    slots.release(1);
    await done;
    expect(idle).toBe(true);
  });

  it('should refuse to release more than was taken', () => {
    expect(() => new Slots(1).release(1)).toThrow(/released more slots than taken/);
  });
});
