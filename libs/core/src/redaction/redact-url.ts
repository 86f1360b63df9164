/** What replaces a secret in a printed URL. */
export const REDACTED = '***';

// PostgreSQL reads a lone user info as a role name (no secret); NATS, and
// anything we do not know, may read it as a token.
const USER_ONLY_IS_A_NAME = new Set(['postgres', 'postgresql']);

// `password=` in a query string or a libpq keyword string.
const PASSWORD_PARAMETER = /(^|[?&\s])((?:ssl)?password)=([^&\s#]*)/gi;

/**
 * A connection URL safe to print: the password in its user info becomes
 * `***` (`nats://svc:***@host`), and so does a lone user info outside
 * PostgreSQL URLs (`nats://***@host`: NATS reads it as a token), and any
 * `password=` parameter. Takes one URL or a comma-separated list of NATS
 * servers (a comma in a NATS password must be written `%2C`), with or
 * without a scheme, and never throws (it reads the text, it does not parse
 * a URL): in doubt it masks more.
 */
export function redactUrl(url: string): string {
  // A PostgreSQL URL is one URL (its hosts list comes after the user info,
  // which may hold a comma); anything else may be a NATS server list.
  if (/^\s*postgres(ql)?:\/\//i.test(url)) return redactOne(url);
  return url.split(',').map(redactOne).join(',');
}

function redactOne(entry: string): string {
  const scheme = /^\s*([a-z][a-z0-9+.-]*):\/\//i.exec(entry);
  const authorityStart = scheme ? scheme[0].length : entry.search(/\S|$/);
  const at = userInfoEnd(entry, authorityStart);
  let redacted = entry;
  if (at >= authorityStart) {
    const userInfo = entry.slice(authorityStart, at);
    redacted =
      entry.slice(0, authorityStart) +
      redactUserInfo(userInfo, scheme?.[1].toLowerCase()) +
      entry.slice(at);
  }
  return redacted.replace(
    PASSWORD_PARAMETER,
    (_, before: string, key: string) => `${before}${key}=${REDACTED}`,
  );
}

/**
 * The `@` that ends the user info: the last one before the query or fragment,
 * else (a password with an unencoded `?` or `#`) the last one at all.
 */
function userInfoEnd(entry: string, authorityStart: number): number {
  const rest = entry.slice(authorityStart);
  const queryOrFragment = rest.search(/[?#]/);
  const authorityAndPath =
    queryOrFragment < 0 ? rest : rest.slice(0, queryOrFragment);
  const at = authorityAndPath.includes('@')
    ? authorityAndPath.lastIndexOf('@')
    : rest.lastIndexOf('@');
  return at < 0 ? -1 : authorityStart + at;
}

function redactUserInfo(userInfo: string, scheme: string | undefined): string {
  const colon = userInfo.indexOf(':');
  if (colon >= 0) return `${userInfo.slice(0, colon)}:${REDACTED}`;
  if (scheme && USER_ONLY_IS_A_NAME.has(scheme)) return userInfo;
  return REDACTED;
}
