import { html, type Html, type PageContext } from '../html/index.js';

/**
 * A button that POSTs one action with the user's CSRF token; nothing at all
 * for a reader (the server refuses their POST anyway). `confirm` asks first,
 * through the console's script.
 */
export function actionButton(
  ctx: PageContext,
  action: string,
  label: string,
  fields: Record<string, string | undefined>,
  confirm?: string,
): Html | '' {
  if (!ctx.admin) return '';
  return html`<form
    class="action"
    method="post"
    action="${ctx.base}/actions/${action}"
    ${confirm ? html` data-confirm="${confirm}"` : ''}
  >
    <input type="hidden" name="csrf" value="${ctx.csrf}" />
    ${Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`)}
    <button type="submit" class="button-${action}">${label}</button>
  </form>`;
}
