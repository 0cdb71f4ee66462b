// Stored values on the page: pretty JSON, long ones cut with a button that loads the rest, and
// errors with their stacks and cause chains.
import { api, runPath } from './api.js';
import { h, report } from './page.js';

export function truncated(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && value.$zartTruncated;
}

export function valueView(value, runId) {
  const cut = truncated(value);
  if (!cut) {
    if (value === null) return h('div', { class: 'muted', text: 'none' });
    return h('pre', { class: 'value', text: JSON.stringify(value, null, 2) });
  }
  const pre = h('pre', { class: 'value', text: `${cut.preview}…` });
  const button = h('button', {
    type: 'button',
    class: 'quiet small',
    text: `Load all ${cut.length.toLocaleString()} characters`,
    onclick: async () => {
      button.disabled = true;
      try {
        const { value: whole } = await api(`${runPath(runId)}/${cut.path}`);
        pre.textContent = JSON.stringify(whole, null, 2);
        button.remove();
      } catch (error) {
        button.disabled = false;
        report(error);
      }
    },
  });
  return h('div', { class: 'value-box' }, pre, h('div', { class: 'truncated-note' }, 'Cut short. ', button));
}

// An error as stored (name, message, stack, own fields, cause), its cause chain below it.
export function errorView(error, runId) {
  if (truncated(error)) return valueView(error, runId);
  if (error === null || typeof error !== 'object') return valueView(error, runId);
  const { name, message, stack, cause, ...fields } = error;
  const headline = `${name || 'Error'}: ${message === undefined ? '' : message}`;
  const extra =
    Object.keys(fields).length > 0 ? h('pre', { class: 'value', text: JSON.stringify(fields, null, 2) }) : null;
  return h(
    'div',
    { class: 'error-box' },
    h('div', { class: 'error-headline', text: headline }),
    stack ? h('pre', { class: 'stack', text: stack }) : null,
    extra,
    cause !== undefined && cause !== null
      ? h('div', { class: 'cause' }, h('div', { class: 'label', text: 'Caused by' }), errorView(cause, runId))
      : null,
  );
}
