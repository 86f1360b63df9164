import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { NotificationExplorer } from './notification-explorer.js';
import { Notifications } from './notifications.service.js';

/** Live, per-instance event handlers; imported (and re-exported) by ChronicleModule. */
@Module({
  imports: [DiscoveryModule],
  providers: [NotificationExplorer, Notifications],
  exports: [Notifications],
})
export class NotificationsModule {}
