export { ChronicleConsoleModule } from './console.module.js';
export {
  ConsoleOptionsError,
  type ConsoleGuardFunction,
  type ConsoleOptions,
  type ConsoleRequest,
} from './console.options.js';
export {
  CancelSchedule,
  DropDeadLetters,
  RetryDeadLetters,
} from './actions/console.commands.js';
export { type ConsoleUser } from './access/console-user.js';
export { ProcessScheduleCancelError } from './actions/console.errors.js';
