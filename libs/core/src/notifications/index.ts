export { HandleNotification } from './notification.decorators.js';
export { NotificationDefinitionError } from './notifications.errors.js';
export { NotificationsModule } from './notifications.module.js';
export {
  NOTIFICATION_OPTIONS,
  type NotificationOptions,
} from './notifications.options.js';
export { Notifications } from './notifications.service.js';
