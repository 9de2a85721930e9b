import { BadRequestException } from '@nestjs/common';
import { UnrecoverableEventError } from '../../src/errors/unrecoverable-event.error.js';
import { decide, INTERNAL_ERROR } from '../../src/consumer/failure-policy.js';
import type { Route } from '../../src/consumer/route.js';

const route = (overrides: Partial<Route> = {}): Route => ({
  stream: 's', pattern: 's', handler: (() => undefined) as unknown as Route['handler'], isEvent: true, ordered: false, batch: false,
  retry: { maxAttempts: 3, maxInterruptions: 10, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1000, jitter: 0 } },
  ...overrides,
});
const failed = (error: unknown) => ({ kind: 'failed' as const, error, wireError: INTERNAL_ERROR });

describe('decide', () => {
  it('should ack a handled entry and a skipped one', () => {
    expect(decide({ route: route(), attempt: 1, result: { kind: 'handled' } })).toEqual({ kind: 'ack' });
    expect(decide({ route: route(), attempt: 1, result: { kind: 'skipped', why: 'trimmed' } })).toEqual({ kind: 'ack', skipped: 'trimmed' });
  });

  it('should retry a failure after the backoff of its attempt while attempts remain', () => {
    expect(decide({ route: route(), attempt: 1, result: failed(new Error('x')) })).toMatchObject({ kind: 'retry', delayMs: 100 });
    expect(decide({ route: route(), attempt: 2, result: failed(new Error('x')) })).toMatchObject({ kind: 'retry', delayMs: 200 });
  });

  it('should dead-letter the last attempt as max-attempts', () => {
    expect(decide({ route: route(), attempt: 3, result: failed(new Error('x')) })).toMatchObject({ kind: 'deadLetter', reason: 'max-attempts' });
  });

  it('should dead-letter at once on UnrecoverableEventError and on a validation failure', () => {
    expect(decide({ route: route(), attempt: 1, result: failed(new UnrecoverableEventError('no')) })).toMatchObject({ kind: 'deadLetter', reason: 'unrecoverable' });
    expect(decide({ route: route(), attempt: 1, result: failed(new BadRequestException('bad')) })).toMatchObject({ kind: 'deadLetter', reason: 'validation' });
  });

  it('should dead-letter a refused entry without reporting a handler failure', () => {
    const error = new Error('bad json');
    expect(decide({ route: route(), attempt: 1, result: { kind: 'rejected', reason: 'decode', error } })).toEqual({
      kind: 'deadLetter', reason: 'decode', error, wireError: INTERNAL_ERROR, beforeHandler: true,
    });
  });

  it("should not retry a request past its caller's deadline", () => {
    const now = 1_000_000;
    const input = { route: route({ isEvent: false }), attempt: 1, result: failed(new Error('x')), now };
    expect(decide({ ...input, deadline: now + 50 })).toMatchObject({ kind: 'deadLetter', reason: 'deadline' });
    expect(decide({ ...input, deadline: now + 5000 })).toMatchObject({ kind: 'retry', delayMs: 100 });
  });

  describe('manual settlement', () => {
    const manual = (settlement: unknown, error?: unknown) => ({ kind: 'manual' as const, settlement: settlement as never, error });

    it('should follow what the handler settled', () => {
      expect(decide({ route: route(), attempt: 1, result: manual({ kind: 'ack' }) })).toEqual({ kind: 'ack' });
      expect(decide({ route: route(), attempt: 1, result: manual({ kind: 'retry', delayMs: 7 }) })).toMatchObject({ kind: 'retry', delayMs: 7 });
      expect(decide({ route: route(), attempt: 1, result: manual({ kind: 'deadLetter', reason: 'r' }) })).toMatchObject({
        kind: 'deadLetter', reason: 'manual', error: { name: 'ManualDeadLetter', message: 'r' },
      });
    });

    it('should count an unsettled entry as a failure', () => {
      const d = decide({ route: route(), attempt: 1, result: manual(undefined) });
      expect(d).toMatchObject({ kind: 'retry' });
      expect(String((d as { error: Error }).error.message)).toMatch(/without settling/);
    });
  });
});
