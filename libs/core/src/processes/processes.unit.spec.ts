import {
  EventType,
  Handles,
  NotInProcessStepError,
  ProcessManager,
  ProcessManagerBase,
  ProcessManagerDefinitionError,
  StartedBy,
} from '../index.js';

@EventType('pm-unit.Opened')
class Opened {
  constructor(readonly id: string) {}
}

@EventType('pm-unit.Closed')
class Closed {
  constructor(readonly id: string) {}
}

describe('@ProcessManager declarations', () => {
  it('refuses a process manager no event could start', () => {
    expect(() => {
      @ProcessManager('never-starts')
      class NeverStarts extends ProcessManagerBase<object> {
        initialState() {
          return {};
        }
        @Handles(Closed, { key: 'id' })
        onClosed() {}
      }
      return NeverStarts;
    }).toThrow(
      new ProcessManagerDefinitionError(
        'Process manager "never-starts" (NeverStarts) has no @StartedBy method, so no instance could ever start.',
      ),
    );
  });

  it('refuses two methods for one event, naming both', () => {
    expect(() => {
      @ProcessManager('twice')
      class Twice extends ProcessManagerBase<object> {
        initialState() {
          return {};
        }
        @StartedBy(Opened, { key: 'id' })
        first() {}
        @Handles(Opened, { key: 'id' })
        second() {}
      }
      return Twice;
    }).toThrow(
      /handles Opened in first and second: give each event one method/,
    );
  });

  it('refuses a name that could not key its consumer and schedules', () => {
    expect(() => {
      @ProcessManager('order fulfilment')
      class Spaced extends ProcessManagerBase<object> {
        initialState() {
          return {};
        }
        @StartedBy(Opened, { key: 'id' })
        onOpened() {}
      }
      return Spaced;
    }).toThrow(ProcessManagerDefinitionError);
  });

  it('says so when the state is touched outside a step', () => {
    @ProcessManager('outside')
    class Outside extends ProcessManagerBase<{ n: number }> {
      initialState() {
        return { n: 0 };
      }
      @StartedBy(Opened, { key: 'id' })
      onOpened() {}
      peek() {
        return this.state.n;
      }
    }
    expect(() => new Outside().peek()).toThrow(NotInProcessStepError);
    expect(() => new Outside().peek()).toThrow(
      'Outside.state was used outside a @StartedBy/@Handles method',
    );
  });
});
