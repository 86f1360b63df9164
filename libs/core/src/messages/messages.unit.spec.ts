import { Type } from 'class-transformer';
import { IsEmail, IsInt, Min, ValidateNested } from 'class-validator';
import {
  CommandType,
  createEnvelope,
  DuplicateMessageTypeError,
  EventType,
  MessageContext,
  MessageTypeRegistry,
  UnregisteredMessageError,
  validateMessage,
  ValidationError,
} from './index.js';

@CommandType('unit.RegisterUser')
class RegisterUser {
  @IsEmail()
  email = 'not-an-email';
}

class ItemLine {
  @IsInt()
  @Min(1)
  quantity: number;
}

@CommandType('unit.ReserveItems')
class ReserveItems {
  @ValidateNested({ each: true })
  @Type(() => ItemLine)
  lines: ItemLine[];
}

@EventType('unit.UserRegistered', { revision: 3 })
class UserRegistered {
  constructor(readonly email: string) {}
}

class NotDecorated {}

const UUID_V7 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('message types', () => {
  it('registers classes under stable names with their revision', () => {
    expect(MessageTypeRegistry.forName('unit.UserRegistered')).toMatchObject({
      kind: 'event',
      revision: 3,
      target: UserRegistered,
    });
    expect(MessageTypeRegistry.forInstance(new RegisterUser())?.name).toBe(
      'unit.RegisterUser',
    );
  });

  it('refuses one name for two classes, naming both', () => {
    expect(() => {
      @EventType('unit.UserRegistered')
      class Impostor {}
      return Impostor;
    }).toThrow(DuplicateMessageTypeError);
    expect(() => {
      @EventType('unit.Other')
      class Impostor {}
      return Impostor;
    }).not.toThrow();
  });

  it('refuses a revision that is not a positive integer', () => {
    expect(() => EventType('unit.Bad', { revision: 0 })).toThrow(
      /positive integer/,
    );
  });
});

describe('envelopes', () => {
  it('gives a root message a UUID v7 id that is also its correlation id', () => {
    const envelope = createEnvelope(new RegisterUser(), 'command');
    expect(envelope.id).toMatch(UUID_V7);
    expect(envelope).toMatchObject({
      type: 'unit.RegisterUser',
      revision: 1,
      metadata: { correlationId: envelope.id },
    });
    expect(envelope.metadata.causationId).toBeUndefined();
    expect(envelope.timestamp).toBeInstanceOf(Date);
  });

  it('inherits correlation and user metadata from the message being handled, and names it as cause', () => {
    const command = createEnvelope(new RegisterUser(), 'command', {
      metadata: { tenant: 'acme' },
    });
    const event = MessageContext.run(command, () =>
      createEnvelope(new UserRegistered('a@b.c'), 'event'),
    );
    expect(event.revision).toBe(3);
    expect(event.metadata).toEqual({
      tenant: 'acme',
      correlationId: command.id,
      causationId: command.id,
    });
  });

  it('requires events to have a stable type name', () => {
    expect(() => createEnvelope(new NotDecorated(), 'event')).toThrow(
      UnregisteredMessageError,
    );
    expect(() => createEnvelope(new NotDecorated(), 'event')).toThrow(
      /@EventType/,
    );
    // Plain @nestjs/cqrs commands handled in process go by their class name.
    expect(createEnvelope(new NotDecorated(), 'command').type).toBe(
      'NotDecorated',
    );
  });
});

describe('validation', () => {
  it('lists each failing field with its constraint', async () => {
    const error = await validateMessage(
      new RegisterUser(),
      'unit.RegisterUser',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      messageType: 'unit.RegisterUser',
      violations: [
        { field: 'email', constraints: { isEmail: 'email must be an email' } },
      ],
    });
    expect((error as Error).message).toBe(
      'Invalid unit.RegisterUser: email (isEmail: email must be an email)',
    );
  });

  it('checks nested fields built as plain objects, as they would arrive over the wire', async () => {
    const order = Object.assign(new ReserveItems(), {
      lines: [{ quantity: 2 }, { quantity: 0 }],
    });
    const error = await validateMessage(order, 'unit.ReserveItems').catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      violations: [
        {
          field: 'lines[1].quantity',
          constraints: { min: expect.any(String) },
        },
      ],
    });
    // The message itself is left as it was built.
    expect(order.lines[1]).not.toBeInstanceOf(ItemLine);

    // Built with its classes, it is checked as it stands, with the same result.
    const built = Object.assign(new ReserveItems(), {
      lines: [Object.assign(new ItemLine(), { quantity: 0 })],
    });
    await expect(
      validateMessage(built, 'unit.ReserveItems'),
    ).rejects.toMatchObject({
      violations: [{ field: 'lines[0].quantity' }],
    });
  });

  it('lets a message without constraints through', async () => {
    await expect(
      validateMessage(new NotDecorated(), 'x'),
    ).resolves.toBeUndefined();
  });
});
