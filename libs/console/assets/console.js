// The Chronicle console's only script: progressive enhancement, every page
// works without it. It asks before destructive actions, disables a button
// once its form is sent, and shows times in the reader's own zone on hover.
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
