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
    return same(this.tokenFor(userId), token);
  }

  /**
   * The signature of a notice an action redirects with: a link made
   * elsewhere cannot put words of its own in the console's notice box.
   */
  signNotice(notice: string): string {
    return createHmac('sha256', this.secret)
      .update(`chronicle-console-notice:${notice}`)
      .digest('base64url');
  }

  noticeSigned(notice: unknown, signature: unknown): notice is string {
    return (
      typeof notice === 'string' && same(this.signNotice(notice), signature)
    );
  }
}

function same(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
