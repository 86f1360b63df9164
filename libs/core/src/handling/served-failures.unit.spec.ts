import { jest } from '@jest/globals';
import { ConsoleLogger } from '@nestjs/common';
import { ChronicleError, ErrorType } from '../messages/index.js';
import { HEADER } from '../transport/index.js';
import { logHandlingFailure, logServedFailure } from './served-failures.js';

@ErrorType('logs.CrateLost')
class CrateLost extends ChronicleError {
  readonly code = 'CRATE_LOST';
}

// What a log shipper reads with Nest's JSON logger (`new ConsoleLogger({ json: true })`,
// Nest 11+): each failure is one line holding one JSON object, the stack inside it.
describe('failed handlings in a JSON log', () => {
  afterEach(() => jest.restoreAllMocks());

  function captured(): string[] {
    const written: string[] = [];
    const keep = (chunk: unknown): boolean => {
      written.push(String(chunk));
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(keep as never);
    jest.spyOn(process.stderr, 'write').mockImplementation(keep as never);
    return written;
  }

  it('are one JSON object per line, naming type, id and correlation id, with the stack as a field', () => {
    const written = captured();
    const logger = new ConsoleLogger('Chronicle', { json: true });
    const crash = new Error('relation "crates" does not exist');
    logHandlingFailure(logger, crash, {
      messageType: 'logs.ShipCrate',
      messageId: 'm-1',
      correlationId: 'c-1',
    });
    logHandlingFailure(logger, new CrateLost('crate 7 is lost'), {
      messageType: 'logs.ShipCrate',
      messageId: 'm-2',
      correlationId: 'c-2',
    });
    // The same error rethrown by an outer handling is not told again.
    logHandlingFailure(logger, crash, {
      messageType: 'logs.Outer',
      messageId: 'm-3',
    });

    const lines = written.join('').split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    const [failed, refused] = lines.map(
      (line) => JSON.parse(line) as Record<string, unknown>,
    );
    expect(failed).toMatchObject({
      level: 'error',
      context: 'Chronicle',
      message:
        'logs.ShipCrate message m-1 (correlation c-1) failed in its handler: Error: relation "crates" does not exist',
    });
    expect(failed.stack).toContain('served-failures.unit.spec.ts');
    expect(refused).toMatchObject({
      level: 'log',
      context: 'Chronicle',
      message:
        'logs.ShipCrate message m-2 (correlation c-2) was refused: logs.CrateLost: crate 7 is lost',
    });
  });

  it('tell a served failure even when a command its handler sent failed with the same error and was told first', () => {
    const written = captured();
    const logger = new ConsoleLogger('Chronicle', { json: true });
    const crash = new Error('down');
    logHandlingFailure(logger, crash, {
      messageType: 'logs.Inner',
      messageId: 'm-inner',
    });
    logServedFailure(
      logger,
      crash,
      { headers: { [HEADER.id]: 'm-outer' }, body: '{}' },
      'logs.Outer',
      true,
    );
    const messages = written
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain('logs.Inner message m-inner');
    expect(messages[1]).toContain('logs.Outer message m-outer');
  });
});
