import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CONSOLE_OPTIONS,
  type ResolvedConsoleOptions,
} from '../console.options.js';

/**
 * CSRF tokens without a session: a token is an HMAC of the user's id under
 * the console's secret. A form on another site cannot know it, and a token
 * seen by one user is worth nothing to another. No cookie to set or parse.
 */
@Injectable()
export class CsrfTokens {
  private readonly secret: Buffer;

  constructor(@Inject(CONSOLE_OPTIONS) options: ResolvedConsoleOptions) {
    this.secret =
      options.csrfSecret !== undefined
        ? Buffer.from(options.csrfSecret)
        : randomBytes(32);
  }

  tokenFor(userId: string | undefined): string {
    return createHmac('sha256', this.secret)
      .update(`chronicle-console:${userId ?? ''}`)
      .digest('base64url');
  }

  matches(userId: string | undefined, token: unknown): boolean {
    if (typeof token !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(userId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
