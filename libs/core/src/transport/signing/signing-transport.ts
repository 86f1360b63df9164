import { Logger } from '@nestjs/common';
import {
  Transport,
  type MessageListener,
  type RequestListener,
  type ServedLoad,
  type ServeLimits,
  type TransportStatus,
  type WireMessage,
} from '../transport.js';
import { encodeError, HEADER, messageIdOf } from '../wire-format.js';
import { MessageSigner } from './message-signer.js';
import { ReplayGuard } from './replay-guard.js';
import { MessageSignatureError } from './signing.errors.js';

/**
 * Wraps the app's transport (NATS or in process alike): every request and
 * published message it sends is signed, every reply it gives too; every
 * request it serves and message it takes is verified before any handler
 * sees it, and so is every reply it gets. A refused request is answered
 * with `MessageSignatureError` (signed, so its caller can trust the refusal);
 * a refused published message is dropped and logged. Wake-ups (broadcast)
 * and presence (announce) go unsigned: they carry no message and start no
 * handler.
 */
export class SigningTransport extends Transport {
  private readonly logger = new Logger('ChronicleSigning');
  private readonly guard: ReplayGuard;

  constructor(
    private readonly inner: Transport,
    private readonly signer: MessageSigner,
  ) {
    super();
    // A signature is acceptable for maxSkewMs either side of its time.
    this.guard = new ReplayGuard(2 * signer.maxSkewMs);
  }

  async request(
    subject: string,
    message: WireMessage,
    options: { timeoutMs: number; messageType: string },
  ): Promise<WireMessage> {
    const signed = await this.signer.sign(message, {
      kind: 'request',
      subject,
    });
    const reply = await this.inner.request(subject, signed, options);
    const requestId = messageIdOf(message);
    try {
      await this.signer.verify(
        reply,
        { kind: 'reply', requestId },
        `The reply to ${options.messageType} (message ${requestId})`,
      );
    } catch (error) {
      if (error instanceof MessageSignatureError) {
        this.logger.warn(error.message);
        // The request was delivered: what it did stands, unknown to us.
        throw new MessageSignatureError(
          `${error.message} It may have been handled: send it again with the same id to learn the outcome.`,
          error.reason,
          requestId,
        );
      }
      throw error;
    }
    return reply;
  }

  async publish(subject: string, message: WireMessage): Promise<void> {
    await this.inner.publish(
      subject,
      await this.signer.sign(message, { kind: 'publish' }),
    );
  }

  serve(
    subject: string,
    queue: string,
    listener: RequestListener,
    limits?: ServeLimits,
  ): Promise<void> {
    return this.inner.serve(
      subject,
      queue,
      async (request, wantsReply) => {
        const requestId = messageIdOf(request);
        const checked = await this.check(request, {
          kind: 'request',
          subject,
        });
        const reply =
          checked instanceof MessageSignatureError
            ? encodeError(checked, {
                messageType: request.headers[HEADER.type] ?? subject,
                messageId: requestId,
                debug: false,
              })
            : await listener(request, wantsReply);
        // A refusal goes to whoever may have asked; a reply to the key that did.
        return this.signer.sign(reply, {
          kind: 'reply',
          requestId,
          to: checked instanceof MessageSignatureError ? undefined : checked,
        });
      },
      limits,
    );
  }

  subscribe(
    subject: string,
    queue: string,
    listener: MessageListener,
  ): Promise<void> {
    return this.inner.subscribe(subject, queue, async (message) => {
      const checked = await this.check(message, { kind: 'publish' });
      if (checked instanceof MessageSignatureError) return;
      return listener(message);
    });
  }

  /** Verifies and checks for a replay; the refusal (logged), or the public key that signed. */
  private async check(
    message: WireMessage,
    binding: { kind: 'request'; subject: string } | { kind: 'publish' },
  ): Promise<MessageSignatureError | string> {
    const type = message.headers[HEADER.type] ?? '(no type)';
    const what = `Message ${messageIdOf(message)} (${type})`;
    try {
      const { signature, signedAt, app, publicKey } = await this.signer.verify(
        message,
        binding,
        what,
      );
      // Keyed on the v1 signature or the v2 tag for this app: both cover the
      // message id, binding and time and name their signer (a tag is made
      // under the key this app shares with it), so a copy is refused and an
      // altered one fails verification first. The shortest unique key: up to
      // a million of them are kept.
      if (!this.guard.firstTime(signature, signedAt)) {
        throw new MessageSignatureError(
          `${what} was refused: it was seen before with this very signature by "${app}" (a replay).`,
          'replayed',
          message.headers[HEADER.id],
        );
      }
      return publicKey;
    } catch (error) {
      if (!(error instanceof MessageSignatureError)) throw error;
      this.logger.warn(error.message);
      return error;
    }
  }

  load(): readonly ServedLoad[] {
    return this.inner.load();
  }

  announce(
    subject: string,
    app: string,
    onOther: (app: string) => void,
  ): Promise<void> {
    return this.inner.announce(subject, app, onOther);
  }

  drain(): Promise<void> {
    return this.inner.drain();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  status(): TransportStatus {
    return this.inner.status();
  }

  override maxPayloadBytes(): number | undefined {
    return this.inner.maxPayloadBytes();
  }

  onBroadcast(
    topic: string,
    listener: (body: string) => void,
  ): Promise<() => void> {
    return this.inner.onBroadcast(topic, listener);
  }

  broadcast(topic: string, body?: string): void {
    this.inner.broadcast(topic, body);
  }
}
