#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command('nestream').description('Operate nestream streams: status, dead letters, consumers');
program.parse();
