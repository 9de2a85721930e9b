export { InvalidOptionsError } from './invalid-options.error.js';
export { UnrecoverableEventError } from './unrecoverable-event.error.js';
export { DecodeError } from './decode.error.js';
export { SettlementError } from './settlement.error.js';
export { RequestTimeoutError } from './request-timeout.error.js';
export { HandlerTimeoutError } from './handler-timeout.error.js';
export { ReplyWriteError } from './reply-write.error.js';
