import { createRequire } from 'node:module';
import { MessageTypeRegistry } from '@chronicle/core';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import type { ResolvedGatewayOptions } from './gateway.options.js';

type Schema = Record<string, unknown>;

// class-transformer's @Type metadata (nested classes, arrays of them), from
// the build the app's decorators wrote to, as core's serialization reads it.
const transformerStorage = ((): unknown => {
  try {
    return (
      createRequire(import.meta.url)('class-transformer/cjs/storage.js') as {
        defaultMetadataStorage?: unknown;
      }
    ).defaultMetadataStorage;
  } catch {
    return undefined;
  }
})();

const problemSchema: Schema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: {
      type: 'string',
      examples: ['urn:chronicle:problem:VALIDATION_FAILED'],
    },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    messageId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string' },
          constraints: {
            type: 'object',
            additionalProperties: { type: 'string' },
          },
        },
      },
    },
    errorType: { type: 'string' },
    fields: { type: 'object' },
  },
};

const problem = (description: string) => ({
  description,
  content: {
    'application/problem+json': {
      schema: { $ref: '#/components/schemas/Problem' },
    },
  },
});

const FAILURES = {
  '400': problem(
    "The body is not JSON, or breaks the message's rules (`errors` lists the fields)",
  ),
  '401': problem('No user, or one the app cannot read'),
  '403': problem("The user has none of the handler's roles"),
  '404': problem('No such message type in this app'),
  '409': problem(
    'A domain rule said no (`errorType`, `fields`), or a concurrent change',
  ),
  '413': problem('The body is over the size limit'),
  '415': problem('The body is not sent as application/json'),
  '429': problem('Too many requests'),
  '503': problem('No handler online, or all busy: try again'),
  '504': problem('The handler did not answer in time'),
};

/**
 * The gateway's OpenAPI 3.1 document, made from what the app has loaded:
 * every registered command and query type is a path, its body schema made
 * from its class's class-validator rules (class-validator-jsonschema), the
 * nested classes' too; no schema is written by hand.
 */
export function openApiDocument(options: ResolvedGatewayOptions): Schema {
  const byClass = validationMetadatasToSchemas({
    refPointerPrefix: '#/components/schemas/',
    ...(transformerStorage
      ? { classTransformerMetadataStorage: transformerStorage as never }
      : {}),
  }) as Record<string, Schema>;
  const schemas: Record<string, Schema> = {
    ...byClass,
    Problem: problemSchema,
  };
  const paths: Record<string, unknown> = {};
  const messages = MessageTypeRegistry.all()
    .filter((info) => info.kind === 'command' || info.kind === 'query')
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const info of messages) {
    const command = info.kind === 'command';
    const className = info.target.name;
    schemas[info.name] = {
      title: info.name,
      ...(byClass[className] ?? { type: 'object' }),
    };
    paths[
      `${options.basePath}/${command ? 'commands' : 'queries'}/${info.name}`
    ] = {
      post: {
        operationId: `${info.kind}:${info.name}`,
        tags: [command ? 'commands' : 'queries'],
        summary: `${command ? 'Send' : 'Ask'} ${info.name}`,
        parameters: command
          ? [
              {
                name: 'Idempotency-Key',
                in: 'header',
                required: false,
                description:
                  "The command's id: a repeat with the same key returns the first result and has no second effect",
                schema: { type: 'string', maxLength: 256 },
              },
            ]
          : [],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: `#/components/schemas/${info.name}` },
            },
          },
        },
        responses: {
          '200': {
            description: `The handler's result`,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id'],
                  properties: {
                    id: { type: 'string', description: "The message's id" },
                    result: {},
                  },
                },
              },
            },
          },
          ...FAILURES,
        },
      },
    };
  }
  paths[`${options.basePath}/events`] = {
    get: {
      operationId: 'events',
      tags: ['events'],
      summary: 'Committed events as server-sent events, live',
      parameters: [
        {
          name: 'after',
          in: 'query',
          description:
            'An event id from the feed, "beginning" or "now" (default)',
          schema: { type: 'string' },
        },
        {
          name: 'types',
          in: 'query',
          description: 'Event types, comma-separated (default: all)',
          schema: { type: 'string' },
        },
        {
          name: 'Last-Event-ID',
          in: 'header',
          description:
            'Resume after this event (sent by EventSource on reconnect)',
          schema: { type: 'string' },
        },
      ],
      responses: {
        '200': {
          description:
            'text/event-stream: one `id:`, `event:` (its type) and `data:` (JSON) per event',
          content: { 'text/event-stream': { schema: { type: 'string' } } },
        },
        '400': FAILURES['400'],
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version },
    paths,
    components: { schemas },
  };
}
