import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Allow,
  IsInt,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  checkDeclaredFields,
  fromPayload,
  validateMessage,
  ValidationError,
} from './index.js';

/** Fields declared by class-validator decorators only, as a DTO would be. */
class RenameProject {
  @IsString()
  projectId: string;

  @IsString()
  name: string;

  @Allow()
  note?: string;
}

/** Fields declared by the constructor, no decorators. */
class ArchiveProject {
  constructor(
    readonly projectId: string,
    readonly reason?: string,
  ) {}
}

class TaskLine {
  @IsString()
  title: string;

  @IsInt()
  @Min(1)
  points: number;
}

class AddTasks {
  @IsString()
  projectId: string;

  @ValidateNested({ each: true })
  @Type(() => TaskLine)
  tasks: TaskLine[];

  @IsOptional()
  @ValidateNested()
  @Type(() => TaskLine)
  highlight?: TaskLine;
}

/** Its constructor cannot run without arguments, and it declares nothing. */
class Snapshot {
  readonly size: number;
  constructor(readonly items: string[]) {
    this.size = items.length;
  }
}

/** A caller's payload with fields the class never declared. */
const withExtras = <T extends object>(message: T): T =>
  Object.assign(message, { isAdmin: true, ownerId: 'mallory' });

describe('fields a message class does not declare', () => {
  it('are stripped before the handler runs, for decorated classes (class-validator whitelist)', async () => {
    const message = withExtras(
      fromPayload(RenameProject, {
        projectId: 'p-1',
        name: 'Apollo',
        note: '',
      }),
    );
    await validateMessage(message, 'unit.RenameProject');
    expect({ ...message }).toEqual({
      projectId: 'p-1',
      name: 'Apollo',
      note: '',
    });
  });

  it('are stripped for classes without constraints too (the fast path)', async () => {
    const message = withExtras(new ArchiveProject('p-1'));
    await validateMessage(message, 'unit.ArchiveProject');
    expect({ ...message }).toEqual({ projectId: 'p-1', reason: undefined });

    // As it arrives off the wire, with no constructor arguments.
    const received = fromPayload(ArchiveProject, {
      projectId: 'p-2',
      reason: 'done',
      isAdmin: true,
    });
    await validateMessage(received, 'unit.ArchiveProject');
    expect({ ...received }).toEqual({ projectId: 'p-2', reason: 'done' });
  });

  it('are stripped from nested instances, and from plain nested objects built in process', async () => {
    const received = fromPayload(AddTasks, {
      projectId: 'p-1',
      tasks: [{ title: 'a', points: 1, assignee: 'mallory' }],
      highlight: { title: 'b', points: 2, isAdmin: true },
    });
    await validateMessage(received, 'unit.AddTasks');
    expect(JSON.parse(JSON.stringify(received))).toEqual({
      projectId: 'p-1',
      tasks: [{ title: 'a', points: 1 }],
      highlight: { title: 'b', points: 2 },
    });

    const built = Object.assign(new AddTasks(), {
      projectId: 'p-1',
      tasks: [{ title: 'a', points: 1, assignee: 'mallory' }],
    });
    await validateMessage(built, 'unit.AddTasks');
    expect(built.tasks).toEqual([{ title: 'a', points: 1 }]);
  });

  it("are refused, each named, with unknownFields: 'refuse' (class-validator forbidNonWhitelisted)", async () => {
    const message = withExtras(
      fromPayload(AddTasks, {
        projectId: 'p-1',
        tasks: [{ title: 'a', points: 0, assignee: 'mallory' }],
      }),
    );
    const error = await validateMessage(
      message,
      'unit.AddTasks',
      'refuse',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).violations).toEqual([
      expect.objectContaining({ field: 'tasks[0].assignee' }),
      expect.objectContaining({ field: 'isAdmin' }),
      expect.objectContaining({ field: 'ownerId' }),
      expect.objectContaining({ field: 'tasks[0].points' }),
    ]);
    expect((error as ValidationError).message).toMatch(
      /isAdmin \(whitelistValidation: property isAdmin should not exist\)/,
    );
    // Refused, not changed.
    expect(message).toHaveProperty('isAdmin', true);

    const plain = withExtras(new ArchiveProject('p-1'));
    await expect(
      validateMessage(plain, 'unit.ArchiveProject', 'refuse'),
    ).rejects.toThrow(/Invalid unit.ArchiveProject: isAdmin .*, ownerId/);
  });

  it('leave a class alone whose fields cannot be known (its constructor needs arguments, it declares none)', async () => {
    const message = withExtras(new Snapshot(['a']));
    await validateMessage(message, 'unit.Snapshot');
    expect(message).toMatchObject({ items: ['a'], size: 1, isAdmin: true });
  });

  it('are stripped from a schedule payload by checkDeclaredFields, or refused', () => {
    const payload = withExtras(new ArchiveProject('p-1', 'old'));
    expect(() =>
      checkDeclaredFields(payload, 'unit.Archive', 'refuse'),
    ).toThrow(ValidationError);
    checkDeclaredFields(payload, 'unit.Archive');
    expect({ ...payload }).toEqual({ projectId: 'p-1', reason: 'old' });
  });

  it('never treat a key with dots or brackets as a path into the message', async () => {
    const message = Object.assign(new AddTasks(), {
      projectId: 'p-1',
      tasks: [Object.assign(new TaskLine(), { title: 'a', points: 1 })],
      'tasks[0]': 'x',
      'tasks.0.title': 'y',
    });
    await validateMessage(message, 'unit.AddTasks');
    expect(message.tasks).toEqual([{ title: 'a', points: 1 }]);
    expect(message).not.toHaveProperty(['tasks[0]']);
    expect(message).not.toHaveProperty(['tasks.0.title']);
  });
});
