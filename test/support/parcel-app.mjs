// A microclient as a separate process for the e2e tests: plain JavaScript on
// the built @chronicle/core, decorators applied by hand. It handles the
// shipping commands and says which instance it is in every result.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsNotEmpty, IsString, Min } from 'class-validator';
import {
  ChronicleModule,
  CommandHandler,
  CommandType,
  MessageContext,
  QueryHandler,
  QueryType,
  RequiresRole,
} from '@chronicle/core';

const instance = process.env.INSTANCE ?? 'unnamed';

class ShipParcel {}
CommandType('ship.ShipParcel')(ShipParcel);
IsString()(ShipParcel.prototype, 'parcelId');
IsNotEmpty()(ShipParcel.prototype, 'parcelId');
Min(0)(ShipParcel.prototype, 'weightKg');

// Fields set in the constructor are declared: undeclared ones are stripped.
class SlowParcel {
  constructor(parcelId, ms) {
    this.parcelId = parcelId;
    this.ms = ms;
  }
}
CommandType('ship.SlowParcel')(SlowParcel);

class ShipParcelHandler {
  async execute({ parcelId }) {
    return { parcelId, handledBy: instance };
  }
}
CommandHandler(ShipParcel)(ShipParcelHandler);
Injectable()(ShipParcelHandler);

class SlowParcelHandler {
  async execute({ parcelId, ms }) {
    process.stdout.write(`started ${parcelId}\n`);
    await new Promise((r) => setTimeout(r, ms));
    return `shipped ${parcelId} by ${instance}`;
  }
}
CommandHandler(SlowParcel)(SlowParcelHandler);
Injectable()(SlowParcelHandler);

// Only dispatchers may recall: `chronicle send --user` is how an operator says who they are.
class RecallParcel {}
CommandType('ship.RecallParcel')(RecallParcel);
IsString()(RecallParcel.prototype, 'parcelId');

class RecallParcelHandler {
  async execute({ parcelId }) {
    const user = MessageContext.current()?.metadata.user;
    return `${parcelId} recalled by ${user?.id}`;
  }
}
CommandHandler(RecallParcel)(RecallParcelHandler);
RequiresRole('dispatcher')(RecallParcelHandler);
Injectable()(RecallParcelHandler);

class ParcelStatus {}
QueryType('ship.ParcelStatus')(ParcelStatus);
IsString()(ParcelStatus.prototype, 'parcelId');

class ParcelStatusHandler {
  async execute({ parcelId }) {
    return { parcelId, status: 'in transit', answeredBy: instance };
  }
}
QueryHandler(ParcelStatus)(ParcelStatusHandler);
Injectable()(ParcelStatusHandler);

class ParcelAppModule {}
Module({
  imports: [ChronicleModule.forRoot({ app: 'parcels' })],
  providers: [
    ShipParcelHandler,
    SlowParcelHandler,
    RecallParcelHandler,
    ParcelStatusHandler,
  ],
})(ParcelAppModule);

const app = await NestFactory.createApplicationContext(ParcelAppModule, {
  logger: ['error'],
});
app.enableShutdownHooks();
process.stdout.write('ready\n');
