export { REDACTED, redactUrl } from './redact-url.js';
