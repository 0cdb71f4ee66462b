// One run's page: its fields, error, timeline, steps, values, events and children, with the
// buttons for the actions.
import { ApiError, api, runHref, runPath } from './api.js';
import { confirmDialog, forkDialog, sendEventDialog } from './actions.js';
import { badge, clear, duration, finished, h, isWait, main, state, time, took, toast, report } from './page.js';
import { timeline } from './timeline.js';
import { errorView, truncated, valueView } from './values.js';

const valueLimit = 4000;

// ---- one run ----

export async function renderRun(id) {
  let last = '';
  clear(main);
  const holder = h('div', { class: 'run-page' }, h('p', { class: 'muted', text: 'Loading…' }));
  main.append(holder);
  const load = async () => {
    const view = await api(`${runPath(id)}?valueLimit=${valueLimit}`);
    const text = JSON.stringify(view);
    // Unchanged: keep the page as it is (loaded values, scroll, open details).
    if (text === last) return;
    last = text;
    // Steps the reader opened stay open across a refresh.
    const open = [...holder.querySelectorAll('details[open]')].map((details) => details.dataset.stepKey);
    clear(holder);
    holder.append(...runPage(view));
    for (const key of open) {
      const details = holder.querySelector(`details[data-step-key="${CSS.escape(key)}"]`);
      if (details) details.open = true;
    }
  };
  state.view = {
    refresh: async () => {
      try {
        await load();
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return;
        throw error;
      }
    },
  };
  try {
    await load();
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    clear(holder);
    holder.append(
      h(
        'div',
        { class: 'card empty' },
        h('h1', { text: 'No such run' }),
        h('p', { text: error.message }),
        h('a', { href: '#/runs', text: 'All runs' }),
      ),
    );
  }
}

function runPage({ run, steps, events, children }) {
  const may = (action) => state.actions.includes(action);
  const active = !finished.has(run.status);
  const button = (label, action, enabled, onclick, kind) =>
    h('button', {
      type: 'button',
      class: kind || 'quiet',
      text: label,
      dataset: { action },
      disabled: !enabled || !may(action),
      title: !may(action) ? 'This token may not do this' : !enabled ? `Not possible for a ${run.status} run` : '',
      onclick,
    });
  const actions = h(
    'div',
    { class: 'actions' },
    button('Send event', 'sendEvent', active, () => sendEventDialog(run)),
    button('Fork', 'fork', steps.length > 0, () => forkDialog(run, steps)),
    button('Resume', 'resume', run.status === 'failed' || run.status === 'cancelled', () =>
      confirmDialog(`Resume run ${run.id}?`, 'It runs again from its last completed step.', 'Resume', async () => {
        await api(`${runPath(run.id)}/resume`, { method: 'POST' });
        toast(`Resumed run ${run.id}.`);
      }),
    ),
    button(
      'Cancel',
      'cancel',
      active,
      () =>
        confirmDialog(
          `Cancel run ${run.id}?`,
          'The run and its children stop at their next step boundary and are not resumed.',
          'Cancel run',
          async () => {
            await api(`${runPath(run.id)}/cancel`, { method: 'POST' });
            toast(`Cancelled run ${run.id}.`);
          },
          'danger',
        ),
      'danger',
    ),
  );
  const facts = [
    ['Workflow', run.version ? `${run.workflow} (version ${run.version})` : run.workflow],
    ['Queue', run.queue],
    ['Attempt', String(run.attempt)],
    ['Recoveries', String(run.recoveries)],
    ['Parent', run.parentId ? h('a', { class: 'mono', href: runHref(run.parentId), text: run.parentId }) : '—'],
    ['Created', time(run.createdAt)],
    ['Started', time(run.startedAt)],
    ['Finished', time(run.finishedAt)],
    ['Took', took(run)],
  ];
  const sections = [
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: '#/runs', text: 'Runs' }),
      ' / ',
      h('span', { class: 'mono', text: run.id }),
    ),
    h(
      'header',
      { class: 'run-head' },
      h(
        'div',
        null,
        h('h1', { class: 'mono', id: 'run-id', text: run.id }),
        h('div', { class: 'run-status' }, badge(run.status), h('span', { class: 'muted', text: run.workflow })),
      ),
      actions,
    ),
    h(
      'dl',
      { class: 'facts card' },
      facts.map(([term, value]) => h('div', null, h('dt', { text: term }), h('dd', null, value))),
    ),
  ];
  if (run.error !== null) {
    sections.push(h('section', { class: 'card' }, h('h2', { text: 'Error' }), errorView(run.error, run.id)));
  }
  sections.push(
    h('section', { class: 'card' }, h('h2', { text: `Timeline` }), timeline(run, steps)),
    h('section', { class: 'card' }, h('h2', { text: `Steps (${steps.length})` }), stepsTable(run, steps)),
    h(
      'section',
      { class: 'values-grid' },
      h('div', { class: 'card' }, h('h2', { text: 'Input' }), valueView(run.input, run.id)),
      h(
        'div',
        { class: 'card' },
        h('h2', { text: 'Output' }),
        run.status === 'completed'
          ? valueView(run.output, run.id)
          : h('div', { class: 'muted', text: run.status === 'failed' ? 'none: the run failed' : 'none yet' }),
      ),
    ),
    h('section', { class: 'card' }, h('h2', { text: `Events (${events.length})` }), eventsTable(run, events)),
    h('section', { class: 'card' }, h('h2', { text: `Children (${children.length})` }), childrenTree(children, run.id)),
  );
  return sections;
}

// A step's duration; for a wait, how long it waited (a sleep: until its wake time).
function stepTook(step, from, to) {
  if (step.status === 'sleeping' && step.wakeAt) return `sleeps ${duration(Date.parse(step.wakeAt) - from)}`;
  if (step.status === 'waiting') {
    return step.wakeAt ? `waits (deadline ${new Date(step.wakeAt).toLocaleTimeString()})` : 'waits';
  }
  return isWait(step) ? `waited ${duration(to - from)}` : duration(to - from);
}

function stepsTable(run, steps) {
  if (steps.length === 0) return h('p', { class: 'muted', text: 'No steps yet.' });
  const origin = Math.min(
    run.startedAt ? Date.parse(run.startedAt) : Infinity,
    ...steps.map((step) => Date.parse(step.startedAt)),
  );
  return h(
    'div',
    { class: 'steps' },
    steps.map((step) => {
      const from = Date.parse(step.startedAt);
      const to = Date.parse(step.finishedAt);
      const summary = h(
        'summary',
        null,
        h('span', { class: 'mono key', text: step.key }),
        // A sleep's checkpoint stays `sleeping`; past its wake time it has slept.
        step.status === 'sleeping' && step.wakeAt && Date.parse(step.wakeAt) <= Date.now()
          ? h('span', { class: 'badge status-sleeping', text: 'slept' })
          : badge(step.status),
        h('span', { class: 'muted', text: `+${duration(from - origin)}` }),
        h('span', { text: stepTook(step, from, to) }),
        h('span', { class: 'muted', text: step.attempts > 1 ? `${step.attempts} attempts` : '1 attempt' }),
        step.error !== null
          ? h('span', {
              class: 'error-inline',
              text: truncated(step.error) ? 'error' : `${step.error.name || 'Error'}: ${step.error.message || ''}`,
            })
          : null,
      );
      return h(
        'details',
        { class: 'step', dataset: { stepKey: step.key } },
        summary,
        h(
          'div',
          { class: 'step-body' },
          h(
            'dl',
            { class: 'facts compact' },
            [
              ['Name', step.name],
              ['Started', time(step.startedAt)],
              ['Finished', time(step.finishedAt)],
              ['Wakes', step.wakeAt ? time(step.wakeAt) : '—'],
            ].map(([term, value]) => h('div', null, h('dt', { text: term }), h('dd', null, value))),
          ),
          step.error !== null ? h('div', null, h('h3', { text: 'Error' }), errorView(step.error, run.id)) : null,
          step.status === 'completed' || step.output !== null
            ? h('div', null, h('h3', { text: 'Output' }), valueView(step.output, run.id))
            : null,
        ),
      );
    }),
  );
}

function eventsTable(run, events) {
  if (events.length === 0) return h('p', { class: 'muted', text: 'No events sent to this run.' });
  return h(
    'table',
    { class: 'events' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Name', 'Sent', 'Taken by', 'Payload'].map((title) => h('th', { text: title })),
      ),
    ),
    h(
      'tbody',
      null,
      events.map((event) =>
        h(
          'tr',
          null,
          h('td', { class: 'mono', text: event.name }),
          h('td', null, time(event.createdAt)),
          h('td', { class: 'mono', text: event.consumedBy || 'buffered' }),
          h('td', null, valueView(event.payload, run.id)),
        ),
      ),
    ),
  );
}

// Children, each expandable to its own children (fetched when opened).
function childrenTree(children, parentId) {
  if (children.length === 0) return h('p', { class: 'muted', text: 'No child runs.' });
  return h(
    'ul',
    { class: 'tree', dataset: { parent: parentId } },
    children.map((child) => {
      const nested = h('div');
      let open = false;
      const toggle = h('button', {
        type: 'button',
        class: 'twisty',
        'aria-label': 'Show children',
        text: '▸',
        onclick: async () => {
          open = !open;
          toggle.textContent = open ? '▾' : '▸';
          clear(nested);
          if (!open) return;
          try {
            const page = await api(`api/runs?parent=${encodeURIComponent(child.id)}&limit=1000`);
            nested.append(childrenTree(page.runs, child.id));
          } catch (error) {
            report(error);
          }
        },
      });
      return h(
        'li',
        { dataset: { runId: child.id } },
        toggle,
        h('a', { class: 'mono', href: runHref(child.id), text: child.id }),
        ' ',
        badge(child.status),
        h('span', { class: 'muted', text: ` ${child.workflow} · ${took(child)}` }),
        nested,
      );
    }),
  );
}
