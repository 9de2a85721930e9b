export { USER_REGISTERED, UserRegisteredEvent } from './users.events.js';
export {
  ORDER_PLACED,
  ORDER_PLACED_DEAD_LETTERS,
  ORDER_SETTLED,
  ORDER_FINAL_STATES,
  OrderPlacedEvent,
  OrderSettledEvent,
  type OrderFinalState,
} from './orders.events.js';
export { STOCK_RESERVED, STOCK_REJECTED, StockReservedEvent, StockRejectedEvent } from './inventory.events.js';
