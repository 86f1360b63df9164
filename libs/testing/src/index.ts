export { FixtureExpectationError } from './fixture-expectation.error.js';
export { onAggregate, onStream, type StreamEvents } from './given-events.js';
export { type MessageExpectation } from './message-matching.js';
export {
  type ProcessExpectation,
  type ProcessManagerClass,
  type StateExpectation,
} from './process-expectations.js';
export { Scenario, type WhenAction } from './scenario.js';
export { timeElapses, type TimeElapses } from './time-elapses.js';
export {
  TestFixture,
  type FixtureMode,
  type TestFixtureOptions,
} from './test-fixture.js';
