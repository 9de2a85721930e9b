import { Body, Controller, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CreateUserDto } from './create-user.dto.js';
import type { User } from './user.entity.js';
import { UsersService } from './users.service.js';

@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** 201 with the user; 400 for an invalid body (global ValidationPipe); 409 if the e-mail is taken. */
  @Post()
  register(@Body() dto: CreateUserDto): Promise<User> {
    return this.users.register(dto);
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<User> {
    return this.users.get(id);
  }
}
