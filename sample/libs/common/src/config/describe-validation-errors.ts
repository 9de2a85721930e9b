import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/**
 * ValidationPipe's `exceptionFactory`: a BadRequestException whose message lists what is wrong
 * (`quantity must not be less than 1; orderId must be a UUID`). Nest's default message is "Bad Request Exception",
 * with the details only in the response body, which a dead-letter entry does not carry.
 */
export function describeValidationErrors(errors: ValidationError[]): BadRequestException {
  const messages = errors.flatMap(function collect(error: ValidationError): string[] {
    return [...Object.values(error.constraints ?? {}), ...(error.children ?? []).flatMap(collect)];
  });
  return new BadRequestException(messages.join('; ') || 'invalid payload');
}
