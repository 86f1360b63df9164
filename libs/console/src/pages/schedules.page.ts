import { html, page, type Html, type PageContext } from '../html/index.js';
import type { ScheduleRow } from '../reading/schedule-list.js';
import { actionButton } from './action-form.js';

function table(
  ctx: PageContext,
  rows: readonly ScheduleRow[],
  periodic: boolean,
): Html {
  return html`<table class="schedules">
    <thead>
      <tr>
        <th>id</th>
        <th>kind</th>
        <th>type</th>
        ${periodic ? html`<th>every</th>` : ''}
        <th>${periodic ? 'next at' : 'due at'} (UTC)</th>
        <th>status</th>
        <th>attempts</th>
        <th>by</th>
        <th>process</th>
        <th>last error</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr class="${r.status === 'dead' ? 'failed' : ''}">
            <td><code>${r.id}</code></td>
            <td>${r.kind}</td>
            <td>${r.type}</td>
            ${periodic ? html`<td>${r.periodic}</td>` : ''}
            <td><time>${r.dueAt}</time></td>
            <td><span class="status status-${r.status}">${r.status}</span></td>
            <td class="num">${r.attempts}</td>
            <td>${r.user ?? ''}</td>
            <td class="process">
              ${r.process ? html`${r.process.name} <code>${r.process.key ?? ''}</code>` : ''}
            </td>
            <td class="error-text">${r.lastError ?? ''}</td>
            <td class="actions-cell">
              ${
                r.process
                  ? ctx.admin
                    ? html`<span class="hint">cancelled by its process</span>`
                    : ''
                  : actionButton(
                      ctx,
                      'cancel-schedule',
                      'Cancel',
                      { id: r.id },
                      `Cancel schedule ${r.id}?`,
                    )
              }
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * Upcoming one-off schedules and the periodic ones, dead ones first, with
 * cancel buttons; a process manager's own schedules show their process and
 * key instead, since only the process may cancel them.
 */
export function schedulesPage(
  ctx: PageContext,
  rows: readonly ScheduleRow[],
): string {
  const periodic = rows.filter((r) => r.periodic !== null);
  const once = rows.filter((r) => r.periodic === null);
  return page(
    ctx,
    'schedules',
    'Schedules',
    html`<h2>Upcoming</h2>
      ${once.length === 0 ? html`<p class="empty">Nothing scheduled.</p>` : table(ctx, once, false)}
      <h2>Periodic</h2>
      ${periodic.length === 0 ? html`<p class="empty">No periodic schedule.</p>` : table(ctx, periodic, true)}`,
  );
}
