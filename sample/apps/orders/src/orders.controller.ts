import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import type { Order } from './order.entity.js';
import { OrdersService } from './orders.service.js';
import { PlaceOrderDto } from './place-order.dto.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** 201 with the order, status `placed`; 400 for an invalid body. `GET /orders/:id` shows where it went. */
  @Post()
  place(@Body() dto: PlaceOrderDto): Promise<Order> {
    return this.orders.place(dto);
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<Order> {
    return this.orders.get(id);
  }
}
