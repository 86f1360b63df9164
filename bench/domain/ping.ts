import {
  Command,
  CommandHandler,
  CommandType,
  Query,
  QueryHandler,
  QueryType,
  type ICommandHandler,
  type IQueryHandler,
} from '@chronicle/core';
import { Inject, Module } from '@nestjs/common';
import {
  CommandHandler as CqrsCommandHandler,
  CqrsModule,
  Command as CqrsCommand,
  Query as CqrsQuery,
  QueryHandler as CqrsQueryHandler,
  type ICommandHandler as CqrsICommandHandler,
  type IQueryHandler as CqrsIQueryHandler,
} from '@nestjs/cqrs';
import { IsInt, IsString, Min } from 'class-validator';

// The messages of the dispatch benchmark: commands that stage no events and a
// query, each handled by the same body in Chronicle and in plain @nestjs/cqrs,
// so that what is measured is the dispatch around the body.

/** What every handler of this benchmark returns: small, JSON-shaped. */
export interface Pong {
  readonly n: number;
}

const pong = (n: number): Pong => ({ n });

/** A command whose class declares no constraints (no class-validator decorators). */
@CommandType('bench.Ping')
export class Ping extends Command<Pong> {
  constructor(
    readonly n: number,
    readonly note: string,
  ) {
    super();
  }
}

/** The same command with class-validator constraints on its fields. */
@CommandType('bench.CheckedPing')
export class CheckedPing extends Command<Pong> {
  @IsInt() @Min(0) readonly n: number;
  @IsString() readonly note: string;
  constructor(n: number, note: string) {
    super();
    this.n = n;
    this.note = note;
  }
}

@QueryType('bench.GetPong')
export class GetPong extends Query<Pong> {
  constructor(readonly n: number) {
    super();
  }
}

@CommandHandler(Ping)
export class PingHandler implements ICommandHandler<Ping> {
  execute(command: Ping): Promise<Pong> {
    return Promise.resolve(pong(command.n));
  }
}

@CommandHandler(CheckedPing)
export class CheckedPingHandler implements ICommandHandler<CheckedPing> {
  execute(command: CheckedPing): Promise<Pong> {
    return Promise.resolve(pong(command.n));
  }
}

@QueryHandler(GetPong)
export class GetPongHandler implements IQueryHandler<GetPong> {
  execute(query: GetPong): Promise<Pong> {
    return Promise.resolve(pong(query.n));
  }
}

export const PING_HANDLERS = [PingHandler, CheckedPingHandler, GetPongHandler];

// The plain @nestjs/cqrs side: same fields, same bodies, same decorators.

export class PlainPing extends CqrsCommand<Pong> {
  constructor(
    readonly n: number,
    readonly note: string,
  ) {
    super();
  }
}

export class PlainCheckedPing extends CqrsCommand<Pong> {
  @IsInt() @Min(0) readonly n: number;
  @IsString() readonly note: string;
  constructor(n: number, note: string) {
    super();
    this.n = n;
    this.note = note;
  }
}

export class PlainGetPong extends CqrsQuery<Pong> {
  constructor(readonly n: number) {
    super();
  }
}

/** Records a command as Chronicle does: the baseline of the deduplicated case. */
export type RecordCommand = (
  id: string,
  type: string,
  result: Pong,
) => Promise<void>;

export const RECORD_COMMAND = Symbol('bench:record-command');

@CqrsCommandHandler(PlainPing)
export class PlainPingHandler implements CqrsICommandHandler<PlainPing> {
  execute(command: PlainPing): Promise<Pong> {
    return Promise.resolve(pong(command.n));
  }
}

@CqrsCommandHandler(PlainCheckedPing)
export class PlainCheckedPingHandler implements CqrsICommandHandler<PlainCheckedPing> {
  execute(command: PlainCheckedPing): Promise<Pong> {
    return Promise.resolve(pong(command.n));
  }
}

@CqrsQueryHandler(PlainGetPong)
export class PlainGetPongHandler implements CqrsIQueryHandler<PlainGetPong> {
  execute(query: PlainGetPong): Promise<Pong> {
    return Promise.resolve(pong(query.n));
  }
}

/** The deduplicated case's baseline: the same body, then a raw insert of the command's record. */
export class PlainRecordedPing extends CqrsCommand<Pong> {
  constructor(
    readonly id: string,
    readonly n: number,
    readonly note: string,
  ) {
    super();
  }
}

@CqrsCommandHandler(PlainRecordedPing)
export class PlainRecordedPingHandler implements CqrsICommandHandler<PlainRecordedPing> {
  constructor(@Inject(RECORD_COMMAND) private readonly record: RecordCommand) {}

  async execute(command: PlainRecordedPing): Promise<Pong> {
    const result = pong(command.n);
    await this.record(command.id, 'bench.Ping', result);
    return result;
  }
}

/** A bare @nestjs/cqrs app with the plain handlers. */
export function plainPingModule(record: RecordCommand) {
  @Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      PlainPingHandler,
      PlainCheckedPingHandler,
      PlainGetPongHandler,
      PlainRecordedPingHandler,
      { provide: RECORD_COMMAND, useValue: record },
    ],
  })
  class PlainPingModule {}
  return PlainPingModule;
}
