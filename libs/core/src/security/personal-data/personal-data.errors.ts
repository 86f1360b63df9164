import { ChronicleError } from '../../messages/index.js';

/** A class declares `@PersonalData` fields but no `@DataSubject()`. */
export class PersonalDataDefinitionError extends ChronicleError {
  readonly code = 'PERSONAL_DATA_DEFINITION';

  constructor(
    readonly className: string,
    fields: readonly string[],
  ) {
    super(
      `${className} marks ${fields.map((f) => `'${f}'`).join(', ')} @PersonalData() but no field @DataSubject(): ` +
        `mark the field that holds the id of the person the data belongs to with @DataSubject(), ` +
        `so the data can be encrypted with that person's key and forgotten`,
    );
  }
}

/** An event with personal data to seal names no data subject. */
export class MissingDataSubjectError extends ChronicleError {
  readonly code = 'MISSING_DATA_SUBJECT';

  constructor(
    readonly eventType: string,
    readonly field: string,
    streamId: string,
  ) {
    super(
      `Event ${eventType} in stream ${streamId} holds personal data but its @DataSubject() field '${field}' ` +
        `is empty: set it to the id (a non-empty string or a number) of the person the data belongs to`,
    );
  }
}

/**
 * A sealed field of a stored event cannot be opened although its key exists:
 * the ciphertext was damaged, or the master key differs from the one the key
 * was wrapped with.
 */
export class PersonalDataUnreadableError extends ChronicleError {
  readonly code = 'PERSONAL_DATA_UNREADABLE';

  constructor(
    readonly event: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(
      `Cannot read the personal data of event ${event}: ${reason}`,
      options,
    );
  }
}

/** The master key given is not 32 bytes of base64. */
export class MasterKeyError extends ChronicleError {
  readonly code = 'MASTER_KEY_INVALID';

  constructor(reason: string) {
    super(
      `The personal data master key is invalid: ${reason}. ` +
        `Give 32 random bytes in base64 (e.g. \`openssl rand -base64 32\`) as personalData.masterKey or CHRONICLE_MASTER_KEY`,
    );
  }
}
