import { readFileSync } from 'node:fs';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';

// The console's stylesheet and script ship in the package's assets/ folder,
// beside src/ and dist/ alike, and are read once: no CDN, no build step.
const FILES: Record<string, string> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};
const cache = new Map<string, string>();

function asset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(
      new URL(`../../assets/${name}`, import.meta.url),
      'utf8',
    );
    cache.set(name, text);
  }
  return text;
}

@Controller('assets')
export class AssetsController {
  @Get(':name')
  file(
    @Param('name') name: string,
    @Res({ passthrough: true })
    response: { setHeader(name: string, value: string): void },
  ): string {
    const type = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
    if (!type) throw new NotFoundException(`The console has no asset ${name}.`);
    response.setHeader('Content-Type', type);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Cache-Control', 'public, max-age=300');
    return asset(name);
  }
}
