import { IsEmail, IsInt, IsString, Length, Max, Min } from 'class-validator';

/** Body of `POST /orders`. Whether the SKU exists is the inventory's business, not checked here. */
export class PlaceOrderDto {
  @IsEmail()
  customerEmail!: string;

  @IsString()
  @Length(1, 40)
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(1000)
  quantity!: number;
}
