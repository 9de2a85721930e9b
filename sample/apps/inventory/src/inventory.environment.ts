import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { ServiceEnvironment } from '@sample/common';

/** The inventory's settings, two of them failures to inject (the demo uses both). */
export class InventoryEnvironment extends ServiceEnvironment {
  /** Every n-th order seen for the first time fails once ("stock database connection reset"); 0 = never. @default 0 */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  INVENTORY_FAIL_EVERY = 0;

  /** Orders for SKUs stored in this warehouse fail on every attempt, and end in the dead-letter stream. @default none */
  @IsOptional()
  @IsString()
  INVENTORY_OFFLINE_WAREHOUSE?: string;
}
