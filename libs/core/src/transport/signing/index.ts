export { MessageSigner, SIGNATURE_HEADER } from './message-signer.js';
export {
  generateSigningKey,
  readPrivateKey,
  readPublicKey,
} from './signing-keys.js';
export {
  MessageSignatureError,
  SigningConfigurationError,
  type SignatureRefusal,
} from './signing.errors.js';
export {
  resolveSigning,
  type ResolvedSigning,
  type SigningOptions,
  type SigningScheme,
} from './signing.options.js';
export { SigningTransport } from './signing-transport.js';
