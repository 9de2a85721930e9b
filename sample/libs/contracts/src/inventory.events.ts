import { IsInt, IsString, IsUUID, Min } from 'class-validator';

/** `inventory` reserved the stock of an order. Read by `orders`. May be emitted again for the same order. */
export const STOCK_RESERVED = 'inventory.reserved';

/** `inventory` had not enough stock for an order. Read by `orders`. May be emitted again for the same order. */
export const STOCK_REJECTED = 'inventory.rejected';

export class StockReservedEvent {
  @IsUUID()
  orderId!: string;

  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

export class StockRejectedEvent {
  @IsUUID()
  orderId!: string;

  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;

  @IsString()
  reason!: string;
}
