import http from 'node:http';

/**
 * The benchmark's HTTP client: `node:http` over one keep-alive agent, so no
 * request pays for a new connection and the client's own cost (lighter than
 * `fetch`) hides as little of the servers' as it can. Every contender is
 * called through the same one.
 */
export class HttpClient {
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** POSTs `body` as JSON and returns the parsed JSON answer; anything but a 200 throws. */
  postJson(url: string, body: unknown): Promise<unknown> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) {
              reject(new Error(`POST ${url}: ${response.statusCode} ${text}`));
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      request.on('error', reject);
      request.end(data);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** One server-sent event as the feed frames it. */
export interface SseFrame {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/**
 * Follows a server-sent event stream, handing each frame that carries an
 * `id:` to `onFrame` (the `retry:` preamble and keep-alive comments are
 * skipped), until `onFrame` returns true; then the connection is closed.
 */
export function followSse(
  url: string,
  onFrame: (frame: SseFrame) => boolean,
  onOpen?: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    // A connection of its own: a stream held open must not take a pooled socket.
    const request = http.get(url, { agent: false }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET ${url}: ${response.statusCode}`));
        response.resume();
        return;
      }
      onOpen?.();
      response.setEncoding('utf8');
      let buffer = '';
      let done = false;
      response.on('data', (chunk: string) => {
        if (done) return;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.startsWith('id: ')) continue;
          const frame = parseFrame(block);
          if (onFrame(frame)) {
            done = true;
            request.destroy();
            resolve();
            return;
          }
        }
      });
      response.on('error', (error) => {
        if (!done) reject(error);
      });
      response.on('end', () => {
        if (!done) reject(new Error(`GET ${url}: the feed ended early`));
      });
    });
    request.on('error', (error) => reject(error));
  });
}

function parseFrame(block: string): SseFrame {
  let id = '';
  let event = '';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data = line.slice(6);
  }
  return { id, event, data };
}
