// The zart dashboard: plain browser JavaScript modules, no build step. It reads everything from
// the JSON API beside it with the bearer token kept in sessionStorage, and builds the page with DOM
// calls only: stored values reach the page through textContent and attributes, never as markup.
// This module signs in, routes, and draws the runs list and the workers page.
import { ApiError, api, runHref, session, token, tokenKey } from './api.js';
import { badge, clear, dialog, duration, h, main, refreshNow, report, state, statuses, time, took } from './page.js';
import { renderRun } from './run-page.js';

const refreshMs = 3000;
const live = document.getElementById('live');
const signOut = document.getElementById('sign-out');

// ---- sign-in ----

function showSignIn(message) {
  state.signedIn = false;
  state.view = null;
  signOut.hidden = true;
  clear(main);
  const input = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'off',
    placeholder: 'Bearer token',
    required: true,
  });
  const problem = h('div', { class: 'form-error', text: message || '' });
  const form = h(
    'form',
    {
      class: 'card sign-in',
      onsubmit: async (event) => {
        event.preventDefault();
        sessionStorage.setItem(tokenKey, input.value.trim());
        await start();
      },
    },
    h('h1', { text: 'Sign in to zart' }),
    h('p', {
      class: 'muted',
      text: "Paste the dashboard token: the one set in the handler's auth option or ZART_DASHBOARD_TOKEN, or the one `zart dashboard` printed. It stays in this browser tab (sessionStorage) and is sent as a bearer token.",
    }),
    h('label', { for: 'token', text: 'Token' }),
    input,
    problem,
    h('button', { type: 'submit', class: 'primary', text: 'Sign in' }),
  );
  main.append(form);
  input.focus();
}

// ---- the runs list ----

function runsQuery() {
  const hash = location.hash.replace(/^#\/runs\??/, '');
  return new URLSearchParams(hash);
}

function renderRuns() {
  const query = runsQuery();
  const chosen = new Set((query.get('status') || '').split(',').filter(Boolean));
  const apply = () => {
    const next = new URLSearchParams();
    if (chosen.size > 0) next.set('status', [...chosen].join(','));
    for (const [name, input] of Object.entries(inputs))
      if (input.value.trim() !== '') next.set(name, input.value.trim());
    history.replaceState(null, '', `#/runs${next.toString() ? `?${next}` : ''}`);
    void load(false);
  };
  let debounce = 0;
  const text = (name, placeholder) =>
    h('input', {
      type: 'search',
      name,
      placeholder,
      value: query.get(name) || '',
      oninput: () => {
        clearTimeout(debounce);
        debounce = setTimeout(apply, 300);
      },
    });
  const inputs = {
    workflow: text('workflow', 'Workflow'),
    queue: text('queue', 'Queue'),
    idPrefix: text('idPrefix', 'Run id starts with'),
  };
  const since = h(
    'select',
    { name: 'since', onchange: apply },
    [
      ['', 'Any time'],
      ['15m', 'Last 15 minutes'],
      ['1h', 'Last hour'],
      ['24h', 'Last 24 hours'],
      ['7d', 'Last 7 days'],
      ['30d', 'Last 30 days'],
    ].map(([value, label]) => h('option', { value, text: label, selected: (query.get('since') || '') === value })),
  );
  inputs.since = since;
  const chips = statuses.map((status) =>
    h('button', {
      type: 'button',
      class: `chip status-${status}${chosen.has(status) ? ' on' : ''}`,
      'aria-pressed': String(chosen.has(status)),
      dataset: { status },
      text: status,
      onclick: (event) => {
        if (chosen.has(status)) chosen.delete(status);
        else chosen.add(status);
        event.currentTarget.classList.toggle('on', chosen.has(status));
        event.currentTarget.setAttribute('aria-pressed', String(chosen.has(status)));
        apply();
      },
    }),
  );
  const body = h('tbody');
  const summary = h('div', { class: 'muted small' });
  const more = h('button', { type: 'button', class: 'quiet', text: 'Load more', hidden: true });
  let next = null;
  let shown = 0;
  clear(main);
  main.append(
    h(
      'section',
      { class: 'filters card' },
      h('div', { class: 'chips', role: 'group', 'aria-label': 'Status' }, chips),
      h(
        'div',
        { class: 'filter-inputs' },
        inputs.workflow,
        inputs.queue,
        inputs.idPrefix,
        since,
        h('button', {
          type: 'button',
          class: 'quiet',
          text: 'Clear',
          onclick: () => {
            location.hash = '#/runs';
          },
        }),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h(
        'table',
        { class: 'runs', id: 'runs-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Run', 'Workflow', 'Status', 'Queue', 'Attempt', 'Created', 'Took', 'Error'].map((title) =>
              h('th', { text: title }),
            ),
          ),
        ),
        body,
      ),
      h('div', { class: 'table-foot' }, summary, more),
    ),
  );

  function row(run) {
    return h(
      'tr',
      { dataset: { runId: run.id, status: run.status } },
      h('td', { class: 'mono' }, h('a', { href: runHref(run.id), text: run.id })),
      h('td', { text: run.workflow }),
      h('td', null, badge(run.status)),
      h('td', { text: run.queue }),
      h('td', { class: 'num', text: String(run.attempt) }),
      h('td', null, time(run.createdAt)),
      h('td', { class: 'num', text: took(run) }),
      h('td', { class: 'error-cell', title: run.error || '', text: run.error || '' }),
    );
  }

  function params(extra) {
    const search = new URLSearchParams();
    const current = runsQuery();
    for (const name of ['status', 'workflow', 'queue', 'idPrefix', 'since']) {
      const value = current.get(name);
      if (value) search.set(name, value);
    }
    for (const [name, value] of Object.entries(extra)) search.set(name, value);
    return search;
  }

  // A refresh reloads as many rows as are shown; "Load more" appends the next page.
  async function load(append) {
    const limit = append ? 50 : Math.min(Math.max(shown, 50), 1000);
    const search = params(append && next ? { limit: String(limit), after: next } : { limit: String(limit) });
    const page = await api(`api/runs?${search}`);
    if (!append) clear(body);
    for (const run of page.runs) body.append(row(run));
    shown = body.children.length;
    next = page.next;
    more.hidden = next === null;
    if (shown === 0) body.append(h('tr', null, h('td', { colspan: 8, class: 'empty', text: 'No runs match.' })));
    summary.textContent = `${shown === 0 ? 'No' : shown} run${shown === 1 ? '' : 's'} shown · refreshed ${new Date().toLocaleTimeString()}`;
  }

  more.addEventListener('click', () => load(true).catch(report));
  state.view = { refresh: () => load(false) };
  return load(false);
}

// ---- workers ----

async function renderWorkers() {
  const body = h('tbody');
  clear(main);
  main.append(
    h(
      'section',
      { class: 'card' },
      h('h1', { text: 'Workers' }),
      h('p', { class: 'muted', text: 'Worker processes with a heartbeat in the last minute.' }),
      h(
        'table',
        { class: 'workers' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Id', 'Host', 'PID', 'Version', 'Started', 'Last seen'].map((title) => h('th', { text: title })),
          ),
        ),
        body,
      ),
    ),
  );
  const load = async () => {
    const { workers } = await api('api/workers');
    clear(body);
    if (workers.length === 0)
      body.append(h('tr', null, h('td', { colspan: 6, class: 'empty', text: 'No live workers.' })));
    for (const worker of workers) {
      body.append(
        h(
          'tr',
          null,
          h('td', { class: 'mono', text: worker.id }),
          h('td', { text: worker.host }),
          h('td', { class: 'num', text: String(worker.pid) }),
          h('td', { text: worker.version }),
          h('td', null, time(worker.startedAt)),
          h('td', {
            class: 'num',
            text: `${duration(Math.max(0, Date.now() - Date.parse(worker.heartbeatAt)))} ago`,
          }),
        ),
      );
    }
  };
  state.view = { refresh: load };
  await load();
}

// ---- routing and refresh ----

async function route() {
  if (!state.signedIn) return;
  const hash = location.hash || '#/runs';
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('current', hash.startsWith(`#/${link.dataset.nav}`));
  }
  if (dialog.open) dialog.close();
  try {
    const run = /^#\/runs\/([^?]+)$/.exec(hash);
    if (run) return await renderRun(decodeURIComponent(run[1]));
    if (hash.startsWith('#/workers')) return await renderWorkers();
    return await renderRuns();
  } catch (error) {
    report(error);
  }
}

function tick() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    if (live.checked && !dialog.open && document.visibilityState === 'visible') await refreshNow();
    tick();
  }, refreshMs);
}

// Asks the API what this token may do; shows the sign-in form when it has no valid token.
async function start() {
  try {
    const access = await api('api/access');
    state.actions = access.actions;
    state.signedIn = true;
    signOut.hidden = token() === null;
    await route();
  } catch (error) {
    if (!(error instanceof ApiError)) return report(error);
    // Signed in, but refused (an authorize hook said no) or the server failed: say so on the page.
    clear(main);
    main.append(
      h('div', { class: 'card empty' }, h('h1', { text: 'Cannot show runs' }), h('p', { text: error.message })),
    );
  }
}

// A link with the token in its fragment (`#token=...`, as `zart dashboard` prints it) signs in
// without pasting; the fragment never reaches a server, and it is removed from the address bar.
const fragment = /^#token=([^&]+)$/.exec(location.hash);
if (fragment) {
  sessionStorage.setItem(tokenKey, decodeURIComponent(fragment[1]));
  history.replaceState(null, '', '#/runs');
}
signOut.addEventListener('click', () => {
  sessionStorage.removeItem(tokenKey);
  showSignIn('Signed out.');
});
window.addEventListener('hashchange', () => void route());
live.addEventListener('change', () => {
  if (live.checked) void refreshNow();
});
tick();
void start();
session.signedOut = showSignIn;
