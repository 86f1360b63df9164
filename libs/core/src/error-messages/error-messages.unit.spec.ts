import { deriveMessageId, ChronicleError } from '../messages/index.js';
import {
  resolveMessageLogOptions,
  type LogEntry,
  type MessageLogWriter,
} from '../message-log/index.js';
import { LocalTransport } from '../transport/index.js';
import { ErrorMessages } from './error-messages.js';

class Refused extends ChronicleError {
  readonly code = 'REFUSED';
}

function reporter(stacks: boolean) {
  const recorded: LogEntry[] = [];
  const writer = {
    options: resolveMessageLogOptions({ stacks }),
    record: (entry: LogEntry) => recorded.push(entry),
  } as unknown as MessageLogWriter;
  const errors = new ErrorMessages(new LocalTransport(), writer, {
    app: 'ledger',
    instance: 'ledger-1',
    namespace: 'ns',
  });
  return { errors, recorded };
}

const failure = {
  kind: 'event' as const,
  messageId: 'event-1',
  messageType: 'ledger.Deposited',
  metadata: { correlationId: 'conversation-1', user: 'u-7' },
  handler: 'consumer:billing:onDeposited',
  error: new Refused('no'),
  attempt: 2,
  next: 'retry' as const,
};

describe('ErrorMessages', () => {
  it('derives the id from the failed message, the handler and the attempt, and names the failed message as cause', () => {
    const { message, envelope } = reporter(false).errors.messageOf(failure);
    expect(message.id).toBe(
      deriveMessageId(
        'event-1',
        'consumer:billing:onDeposited',
        'chronicle.Error',
        2,
      ),
    );
    expect(reporter(false).errors.messageOf(failure).message.id).toBe(
      message.id,
    );
    expect(
      reporter(false).errors.messageOf({ ...failure, attempt: 3 }).message.id,
    ).not.toBe(message.id);
    expect(envelope).toMatchObject({
      id: message.id,
      type: 'chronicle.Error',
      metadata: {
        correlationId: 'conversation-1',
        causationId: 'event-1',
        user: 'u-7',
      },
    });
    expect(message.error).toEqual({
      name: 'Refused',
      code: 'REFUSED',
      message: 'no',
    });
  });

  it('keeps the stack only when the app says so', () => {
    expect(
      reporter(false).errors.messageOf(failure).message.error,
    ).not.toHaveProperty('stack');
    expect(
      reporter(true).errors.messageOf(failure).message.error.stack,
    ).toContain('Refused');
  });

  it('takes the failed message id as correlation when it has none, and records the row without throwing when nobody listens', () => {
    const { errors, recorded } = reporter(false);
    errors.report({ ...failure, metadata: {} });
    expect(recorded).toEqual([
      expect.objectContaining({
        kind: 'error',
        type: 'ledger.Deposited',
        metadata: expect.objectContaining({
          correlationId: 'event-1',
          causationId: 'event-1',
        }) as object,
        outcome: 'failed',
      }),
    ]);
  });
});
