import { Injectable, Module } from '@nestjs/common';
import {
  Command,
  CommandHandler,
  CommandType,
  MessageGateway,
  type ICommandHandler,
} from '@chronicle/core';
import { TestFixture } from './index.js';

@CommandType('fixture.NotifyWarehouse')
class NotifyWarehouse extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

@CommandType('fixture.ThankCustomer')
class ThankCustomer extends Command<void> {
  constructor(readonly orderId: string) {
    super();
  }
}

/** Sends both onward without waiting: one is handled in this app, the other elsewhere. */
@CommandType('fixture.ShipOrder')
class ShipOrder extends Command<void> {
  constructor(
    readonly orderId: string,
    readonly notifyWarehouse: boolean,
  ) {
    super();
  }
}

@Injectable()
class Thanked {
  readonly orders: string[] = [];
}

@CommandHandler(ShipOrder)
class ShipOrderHandler implements ICommandHandler<ShipOrder> {
  constructor(private readonly gateway: MessageGateway) {}

  async execute({ orderId, notifyWarehouse }: ShipOrder): Promise<void> {
    if (notifyWarehouse)
      await this.gateway.sendAndForget(new NotifyWarehouse(orderId));
    else await this.gateway.sendAndForget(new ThankCustomer(orderId));
  }
}

@CommandHandler(ThankCustomer)
class ThankCustomerHandler implements ICommandHandler<ThankCustomer> {
  constructor(private readonly thanked: Thanked) {}

  async execute({ orderId }: ThankCustomer): Promise<void> {
    this.thanked.orders.push(orderId);
  }
}

@Module({
  providers: [Thanked, ShipOrderHandler, ThankCustomerHandler],
})
class ShippingModule {}

describe('TestFixture with sendAndForget', () => {
  let fixture: TestFixture;
  beforeAll(async () => {
    fixture = await TestFixture.create({ imports: [ShippingModule] });
  });
  afterAll(() => fixture.close());

  it('delivers a command sent without waiting to its handler here, once, and lists it as sent onward', async () => {
    await fixture
      .when(new ShipOrder('o-1', false))
      .expectCommands(new ThankCustomer('o-1'))
      .expectNoSchedules()
      .expectThat((app) => {
        expect(app.get(Thanked).orders).toEqual(['o-1']);
      });
  });

  it('lists a command sent without waiting that another app handles as sent onward, not as a schedule, without waiting for it', async () => {
    await fixture
      .when(new ShipOrder('o-2', true))
      .expectCommands(new NotifyWarehouse('o-2'))
      .expectNoSchedules();
  });
});
