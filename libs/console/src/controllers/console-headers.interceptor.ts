import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';

// Only the console's own files run or style its pages, only the console
// itself is fetched from (the live tail's feed), nothing may frame them, and nothing is cached that a reader without the role could see later.
const HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

interface HeaderTarget {
  setHeader(name: string, value: string): void;
}

@Injectable()
export class ConsoleHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<HeaderTarget>();
    for (const [name, value] of Object.entries(HEADERS)) {
      response.setHeader(name, value);
    }
    return next.handle();
  }
}
