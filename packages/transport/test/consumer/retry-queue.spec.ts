import { jest } from '@jest/globals';
import { RetryQueue } from '../../src/consumer/retry-queue.js';

describe('RetryQueue', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should hand over items in due order, those due together in one call', () => {
    const calls: string[][] = [];
    const queue = new RetryQueue<string>(items => calls.push(items));
    queue.schedule('late', 300);
    queue.schedule('a', 100);
    queue.schedule('b', 100);
    jest.advanceTimersByTime(99);
    expect(calls).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(calls).toEqual([['a', 'b']]);
    jest.advanceTimersByTime(200);
    expect(calls).toEqual([['a', 'b'], ['late']]);
    expect(queue.size).toBe(0);
  });

  it('should forget a cancelled item and return the waiting ones on stop', () => {
    const calls: string[][] = [];
    const queue = new RetryQueue<string>(items => calls.push(items));
    queue.schedule('a', 100);
    queue.schedule('b', 200);
    queue.cancel('a');
    expect(queue.stop()).toEqual(['b']);
    jest.advanceTimersByTime(1000);
    expect(calls).toEqual([]);
  });
});
