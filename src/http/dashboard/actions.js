// The dialogs of the run page's actions: confirm a cancel or resume, fork from a step, send an
// event with a JSON payload. Each posts to the API and refreshes the view.
import { SignedOutError, api, runHref, runPath } from './api.js';
import { clear, dialog, h, refreshNow, toast } from './page.js';

function openDialog(title, fields, submitLabel, onSubmit, kind) {
  clear(dialog);
  const problem = h('div', { class: 'form-error' });
  const submit = h('button', { type: 'submit', class: kind || 'primary', text: submitLabel });
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        problem.textContent = '';
        try {
          await onSubmit();
          dialog.close();
          await refreshNow();
        } catch (error) {
          if (!(error instanceof SignedOutError)) problem.textContent = error.message;
          else dialog.close();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { text: title }),
    fields,
    problem,
    h(
      'div',
      { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'quiet', text: 'Close', onclick: () => dialog.close() }),
      submit,
    ),
  );
  dialog.append(form);
  dialog.showModal();
}

export function confirmDialog(title, text, label, action, kind) {
  openDialog(title, h('p', { text }), label, action, kind);
}

export function sendEventDialog(run) {
  const name = h('input', { name: 'name', required: true, placeholder: 'approved', autocomplete: 'off' });
  const payload = h('textarea', { name: 'payload', rows: 6, placeholder: '{"by": "ada"}', spellcheck: false });
  openDialog(
    `Send an event to ${run.id}`,
    [h('label', { text: 'Event name' }, name), h('label', { text: 'Payload (JSON, optional)' }, payload)],
    'Send event',
    async () => {
      let value;
      if (payload.value.trim() !== '') {
        try {
          value = JSON.parse(payload.value);
        } catch (error) {
          throw new Error(`The payload is not valid JSON: ${error.message}`);
        }
      }
      await api(`${runPath(run.id)}/events`, {
        method: 'POST',
        body: value === undefined ? { name: name.value } : { name: name.value, payload: value },
      });
      toast(`Sent event "${name.value}" to run ${run.id}.`);
    },
  );
}

export function forkDialog(run, steps) {
  const from = h(
    'select',
    { name: 'fromStep' },
    steps.map((step) => h('option', { value: step.key, text: `${step.key} (${step.status})` })),
  );
  const id = h('input', { name: 'id', placeholder: `${run.id}-fork-…`, autocomplete: 'off' });
  openDialog(
    `Fork ${run.id}`,
    [
      h('p', {
        class: 'muted',
        text: 'A new run reuses the checkpoints before the chosen step and executes from it.',
      }),
      h('label', { text: 'Execute again from step' }, from),
      h('label', { text: 'New run id (optional)' }, id),
    ],
    'Fork',
    async () => {
      const body = id.value.trim() === '' ? { fromStep: from.value } : { fromStep: from.value, id: id.value.trim() };
      const forked = await api(`${runPath(run.id)}/fork`, { method: 'POST', body });
      toast(`Forked as ${forked.id}.`);
      location.hash = runHref(forked.id);
    },
  );
}
