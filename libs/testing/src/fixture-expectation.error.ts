/** A given-when-then expectation did not hold; the message shows expected against actual. */
export class FixtureExpectationError extends Error {
  override readonly name = 'FixtureExpectationError';
}
