import { ChronicleError, ErrorType } from '../../messages/index.js';

/** Why a signed transport refused a message. */
export type SignatureRefusal =
  | 'unsigned'
  | 'malformed'
  | 'untrusted-key'
  | 'bad-signature'
  | 'expired'
  | 'replayed'
  | 'app-mismatch';

/**
 * A message (or a reply) whose signature did not hold: not signed, signed by
 * a key not trusted for the app it names, altered after signing, signed too
 * long ago or too far ahead, or seen before. Declared, so a caller whose
 * request was refused gets this class back, with its reason.
 */
@ErrorType('chronicle.MessageSignatureRefused')
export class MessageSignatureError extends ChronicleError {
  readonly code = 'SIGNATURE_REFUSED';

  constructor(
    message: string,
    readonly reason: SignatureRefusal,
    /** The refused message's id, when it named one. */
    readonly messageId?: string,
  ) {
    super(message);
  }
}

/** Signing options or keys that cannot be used: found at start. */
export class SigningConfigurationError extends ChronicleError {
  readonly code = 'SIGNING_CONFIGURATION';
}
