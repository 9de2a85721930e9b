import { IsEmail, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Min } from 'class-validator';

/**
 * An order was stored by `orders` (status `placed`). Published through the orders outbox. Read by `inventory`,
 * which reserves stock or rejects the order; an order it cannot handle ends in {@link ORDER_PLACED_DEAD_LETTERS}.
 */
export const ORDER_PLACED = 'order.placed';

/**
 * The transport's dead-letter stream of {@link ORDER_PLACED} (`<stream>:dlq`). Entries keep the original fields
 * (so the payload decodes as usual) plus `dlq.*` fields saying why. `orders` reads it to mark such orders failed.
 */
export const ORDER_PLACED_DEAD_LETTERS = `${ORDER_PLACED}:dlq`;

export class OrderPlacedEvent {
  @IsUUID()
  orderId!: string;

  @IsEmail()
  customerEmail!: string;

  @IsString()
  @Length(1, 40)
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  @IsISO8601()
  placedAt!: string;
}

/** The final states of an order. */
export const ORDER_FINAL_STATES = ['confirmed', 'rejected', 'failed'] as const;
export type OrderFinalState = (typeof ORDER_FINAL_STATES)[number];

/** An order reached its final state. Published through the orders outbox; read by `mailer` (one e-mail per order). */
export const ORDER_SETTLED = 'order.settled';

export class OrderSettledEvent {
  @IsUUID()
  orderId!: string;

  @IsEmail()
  customerEmail!: string;

  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  @IsIn(ORDER_FINAL_STATES)
  status!: OrderFinalState;

  /** Why an order was rejected or failed. */
  @IsOptional()
  @IsString()
  reason?: string;
}
