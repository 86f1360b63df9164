import { Module } from '@nestjs/common';
import {
  Aggregate,
  AggregateRepository,
  AggregateRoot,
  Apply,
  ChronicleModule,
  Command,
  CommandHandler,
  CommandType,
  Consumer,
  EventType,
  HandleEvent,
  Handles,
  InjectAggregateRepository,
  ProcessManager,
  ProcessManagerBase,
  StartedBy,
  type ICommandHandler,
} from '@chronicle/core';

/** A note whose text is written, then edited: enough for a timeline and a diff. */

@EventType('notes.NoteWritten')
export class NoteWritten {
  constructor(readonly text: string) {}
}

@EventType('notes.NoteEdited')
export class NoteEdited {
  constructor(readonly text: string) {}
}

@Aggregate({ type: 'notes.Note' })
export class Note extends AggregateRoot {
  text = '';
  edits = 0;

  write(text: string): void {
    this.apply(
      this.version === 0 ? new NoteWritten(text) : new NoteEdited(text),
    );
  }

  @Apply(NoteWritten)
  private onWritten({ text }: NoteWritten): void {
    this.text = text;
  }

  @Apply(NoteEdited)
  private onEdited({ text }: NoteEdited): void {
    this.text = text;
    this.edits += 1;
  }
}

@CommandType('notes.WriteNote')
export class WriteNote extends Command<void> {
  constructor(
    readonly noteId: string,
    readonly text: string,
  ) {
    super();
  }
}

@CommandHandler(WriteNote)
export class WriteNoteHandler implements ICommandHandler<WriteNote> {
  constructor(
    @InjectAggregateRepository(Note)
    private readonly notes: AggregateRepository<Note>,
  ) {}

  async execute({ noteId, text }: WriteNote): Promise<void> {
    const note = await this.notes.loadOrCreate(noteId);
    note.write(text);
    await this.notes.save(note);
  }
}

/** The events a failing printer has refused once: the next try prints them. */
export const refusedOnce = new Set<string>();

/** Fails each new note's first event once, so it parks; a retry then prints it. */
@Consumer('note-printer', { onError: 'park', maxAttempts: 1 })
export class NotePrinter {
  readonly printed: string[] = [];

  @HandleEvent(NoteWritten)
  onWritten(event: NoteWritten): void {
    if (!refusedOnce.has(event.text)) {
      refusedOnce.add(event.text);
      throw new Error('the printer is out of paper');
    }
    this.printed.push(event.text);
  }
}

/** When the notes are due for review: a process manager's deadline. */
@EventType('notes.ReviewDue')
export class ReviewDue {
  constructor(readonly reason = 'an hour after the last note') {}
}

/** Reviews all notes an hour after the last one written: one instance, one deadline. */
@ProcessManager('note-review')
export class NoteReview extends ProcessManagerBase<{ written: number }> {
  initialState(): { written: number } {
    return { written: 0 };
  }

  @StartedBy(NoteWritten, { key: () => 'all-notes' })
  onWritten(): void {
    this.state.written += 1;
    this.deadline('review', '1h', new ReviewDue());
  }

  @Handles(ReviewDue, { key: () => 'all-notes' })
  onReviewDue(): void {
    this.end();
  }
}

@Module({
  imports: [ChronicleModule.forFeature([Note])],
  providers: [WriteNoteHandler, NotePrinter, NoteReview],
})
export class NotesModule {}
