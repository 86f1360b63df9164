/**
 * Base class of every error Chronicle raises on purpose. `code` is stable and
 * machine-readable (it is what travels over the wire); `message` is for people
 * and says how to fix the problem where we know.
 */
export abstract class ChronicleError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
