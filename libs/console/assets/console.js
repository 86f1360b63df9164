// The Chronicle console's only script: progressive enhancement, every page
// but the live tail works without it. It asks before destructive actions,
// disables a button once its form is sent, shows times in the reader's own
// zone on hover, and fills the live tail from its feed.
'use strict';

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() === 'post') {
    for (const button of form.querySelectorAll('button')) {
      button.disabled = true;
      button.textContent = '…';
    }
  }
});

for (const time of document.querySelectorAll('time')) {
  const date = new Date(time.textContent.trim());
  if (!Number.isNaN(date.getTime())) time.title = date.toLocaleString();
}

// The live tail: rows from the page's own feed (server-sent events), built
// from text with createElement and textContent, never from markup, so a
// payload holding `<script>` shows as text. Newest first, the last 200 kept.
const tail = document.getElementById('tail');
if (tail && 'EventSource' in window) {
  const rows = tail.querySelector('tbody');
  const status = document.getElementById('tail-status');
  const base = tail.dataset.base;
  let seen = 0;
  const cell = (row, text, className) => {
    const td = row.insertCell();
    if (text !== undefined) td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const link = (td, text, href) => {
    const a = document.createElement('a');
    a.textContent = text;
    a.href = href;
    td.append(a);
  };
  const feed = new EventSource(tail.dataset.feed);
  feed.addEventListener('open', () => {
    status.textContent =
      seen === 0
        ? 'Live: waiting for the next event to commit…'
        : `Live: ${seen} events so far.`;
  });
  feed.addEventListener('error', () => {
    status.textContent = 'The feed dropped; reconnecting (no event is lost)…';
  });
  feed.addEventListener('message', (message) => {
    const event = JSON.parse(message.data);
    const row = rows.insertRow(0);
    row.className = 'tail-row';
    const at = document.createElement('time');
    at.textContent = event.timestamp;
    at.title = new Date(event.timestamp).toLocaleString();
    cell(row).append(at);
    link(
      cell(row, undefined, 'type'),
      event.type,
      `${base}/messages/${encodeURIComponent(event.id)}`,
    );
    link(
      cell(row),
      event.streamId,
      `${base}/aggregates?${new URLSearchParams({ stream: event.streamId })}`,
    );
    cell(row, String(event.streamVersion), 'num');
    const code = document.createElement('code');
    code.textContent = event.preview;
    cell(row, undefined, 'preview').append(code);
    while (rows.rows.length > 200) rows.deleteRow(-1);
    seen += 1;
    status.textContent = `Live: ${seen} ${seen === 1 ? 'event' : 'events'} so far.`;
  });
}
