import { html, page, query, type PageContext } from '../html/index.js';

/**
 * The live tail: a filter form and an empty table that the console's script
 * fills from the page's own feed (`tail/feed`), starting right after the
 * newest event when the page was rendered. The rows are made by the script
 * from text, never from markup (assets/console.js).
 */
export function tailPage(
  ctx: PageContext,
  types: string,
  after: string,
  error?: string,
): string {
  return page(
    ctx,
    'tail',
    'Live tail',
    html`<form class="filters" method="get" action="${ctx.base}/tail">
        <label
          >types
          <input
            name="types"
            value="${types}"
            placeholder="orders.OrderPlaced, payments.PaymentAuthorized"
            class="wide"
        /></label>
        <button type="submit">Follow</button>
        <a href="${ctx.base}/tail">all types</a>
      </form>
      ${
        error
          ? html`<p class="error" role="alert">${error}</p>`
          : html`<p class="tail-status" id="tail-status" role="status">
                Waiting for events committed after
                <time>${new Date().toISOString()}</time>…
              </p>
              <noscript
                ><p class="hint">
                  The live tail needs scripts; every other page works without.
                </p></noscript
              >
              <table
                class="log tail"
                id="tail"
                data-feed="${ctx.base}/tail/feed${query({ types, after })}"
                data-base="${ctx.base}"
              >
                <thead>
                  <tr>
                    <th>at (UTC)</th>
                    <th>type</th>
                    <th>stream</th>
                    <th class="num">version</th>
                    <th>payload</th>
                  </tr>
                </thead>
                <tbody></tbody>
              </table>`
      }`,
  );
}
