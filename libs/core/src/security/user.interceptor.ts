import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable } from 'rxjs';
import { CurrentUser } from './current-user.js';

/**
 * Runs each HTTP request as `request.user` (where passport and most auth
 * guards put who authenticated), so the commands and queries it sends carry
 * the user. A request without one runs as no one. Register it globally
 * (`{ provide: APP_INTERCEPTOR, useClass: UserInterceptor }`) or on a
 * controller; it trusts whatever set `request.user`, so authenticate first.
 */
@Injectable()
export class UserInterceptor implements NestInterceptor {
  constructor(private readonly currentUser: CurrentUser<unknown>) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<{ user?: unknown }>();
    const user = request?.user;
    if (user === undefined || user === null) return next.handle();
    // Subscribed inside runAs: the handler's awaits keep the user.
    return new Observable((subscriber) =>
      this.currentUser.runAs(user, () => next.handle().subscribe(subscriber)),
    );
  }
}
