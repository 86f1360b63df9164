export { AccessCheck, USER_METADATA_KEY } from './access-check.js';
export {
  accessRuleOf,
  Public,
  RequiresRole,
  RequiresUser,
  resolveAccessRule,
  type AccessRule,
} from './access.decorators.js';
export { CurrentUser } from './current-user.js';
export {
  AccessRuleError,
  ForbiddenError,
  isAccessRefusal,
  UnauthenticatedError,
  UnreadableUserError,
} from './security.errors.js';
export { SECURITY_OPTIONS, type SecurityOptions } from './security.options.js';
export { UserInterceptor } from './user.interceptor.js';
export {
  DefaultUserProvider,
  SYSTEM_USER_ID,
  UserProvider,
  type JsonValue,
  type User,
} from './user-provider.js';
