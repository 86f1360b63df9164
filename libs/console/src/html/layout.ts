import { html, type Html } from './html.js';

/** What every page needs to know about the request it answers. */
export interface PageContext {
  /** Where the console is mounted, e.g. `/chronicle` (no trailing slash). */
  readonly base: string;
  /** Whether the user holds the admin role: action buttons are shown only then. */
  readonly admin: boolean;
  /** The user's id, shown in the header; undefined when the guard set none. */
  readonly userId?: string;
  /** The token every action form carries (see access/csrf.ts). */
  readonly csrf: string;
  /** A line to show once, after an action (from the query string). */
  readonly notice?: string;
}

const SECTIONS = [
  ['messages', 'Message log'],
  ['aggregates', 'Aggregates'],
  ['tail', 'Live tail'],
  ['consumers', 'Consumers'],
  ['schedules', 'Schedules'],
] as const;

/** The whole document: header, navigation, the page's body. */
export function page(
  ctx: PageContext,
  section: (typeof SECTIONS)[number][0],
  title: string,
  body: Html,
): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>${title} · Chronicle console</title>
        <link rel="stylesheet" href="${ctx.base}/assets/console.css" />
        <script src="${ctx.base}/assets/console.js" defer></script>
      </head>
      <body>
        <header>
          <a class="brand" href="${ctx.base}/messages">Chronicle</a>
          <nav>
            ${SECTIONS.map(
              ([path, label]) =>
                html`<a
                  href="${ctx.base}/${path}"
                  ${section === path ? html` class="current"` : ''}
                  >${label}</a
                >`,
            )}
          </nav>
          <span class="who"
            >${ctx.userId ?? 'anonymous'}${ctx.admin ? html` <em>admin</em>` : html` <em>read-only</em>`}</span
          >
        </header>
        <main>
          ${ctx.notice ? html`<p class="notice" role="status">${ctx.notice}</p>` : ''}
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `.text;
}
