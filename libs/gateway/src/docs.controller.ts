import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  Res,
  UseGuards,
} from '@nestjs/common';
import { GatewayGuard } from './gateway.guard.js';
import {
  GATEWAY_OPTIONS,
  type ResolvedGatewayOptions,
} from './gateway.options.js';
import type { GatewayResponse } from './http-types.js';
import { openApiDocument } from './openapi-document.js';

/** The Swagger UI files served from the swagger-ui-dist package: no CDN. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const assetsFolder = dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);

/** `GET /openapi.json` and the Swagger UI page at `GET /docs`, behind the gateway's guards. */
@Controller()
@UseGuards(GatewayGuard)
export class DocsController {
  private document?: Record<string, unknown>;

  constructor(
    @Inject(GATEWAY_OPTIONS) private readonly options: ResolvedGatewayOptions,
  ) {}

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    // Made once: message types are all registered by the time a request comes.
    this.document ??= openApiDocument(this.options);
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    if (!this.options.docs) throw new NotFoundException();
    const base = this.options.basePath;
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(this.options.title)}</title>
<link rel="stylesheet" href="${base}/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="${base}/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}/docs/swagger-ui-bundle.js"></script>
<script src="${base}/docs/swagger-ui-standalone-preset.js"></script>
<script src="${base}/docs/init.js"></script>
</body>
</html>`;
  }

  @Get('docs/init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    if (!this.options.docs) throw new NotFoundException();
    return `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(`${this.options.basePath}/openapi.json`)},
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;
  }

  @Get('docs/:file')
  async asset(
    @Param('file') file: string,
    @Res() response: GatewayResponse,
  ): Promise<void> {
    const type = ASSETS[file];
    if (!this.options.docs || type === undefined) throw new NotFoundException();
    const body = await readFile(join(assetsFolder, file));
    response.writeHead(200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=86400',
    });
    response.end(body);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
