import { Command, CommandType } from '@chronicle/core';
import type { DropOutcome, RetryOutcome } from '@chronicle/core';
import { IsNotEmpty, IsOptional, IsString } from 'class-validator';

// What an admin does from the console, as commands: each lands in the message
// log with the user who clicked, like any other command of the app.

/** Retry a consumer's parked streams (or one of them) now. */
@CommandType('chronicle.console.RetryDeadLetters')
export class RetryDeadLetters extends Command<RetryOutcome[]> {
  @IsString()
  @IsNotEmpty()
  readonly consumer: string;

  @IsOptional()
  @IsString()
  readonly stream?: string;

  constructor(consumer: string, stream?: string) {
    super();
    this.consumer = consumer;
    if (stream !== undefined) this.stream = stream;
  }
}

/** Drop a consumer's parked streams (or one of them): their events are never handled. */
@CommandType('chronicle.console.DropDeadLetters')
export class DropDeadLetters extends Command<DropOutcome[]> {
  @IsString()
  @IsNotEmpty()
  readonly consumer: string;

  @IsOptional()
  @IsString()
  readonly stream?: string;

  constructor(consumer: string, stream?: string) {
    super();
    this.consumer = consumer;
    if (stream !== undefined) this.stream = stream;
  }
}

/** Remove a schedule (also a dead or periodic one; not a process manager's own: its process cancels those). */
@CommandType('chronicle.console.CancelSchedule')
export class CancelSchedule extends Command<void> {
  @IsString()
  @IsNotEmpty()
  readonly id: string;

  constructor(id: string) {
    super();
    this.id = id;
  }
}
