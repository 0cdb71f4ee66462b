// The zart dashboard: plain browser JavaScript, no build step. It reads everything from the JSON
// API beside it with the bearer token kept in sessionStorage, and builds the page with DOM calls
// only: stored values reach the page through textContent and attributes, never as markup.
(() => {
  'use strict';

  const tokenKey = 'zart.dashboard.token';
  const refreshMs = 3000;
  const valueLimit = 4000;
  const statuses = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'];
  const finished = new Set(['completed', 'failed', 'cancelled']);
  const main = document.getElementById('main');
  const dialog = document.getElementById('dialog');
  const live = document.getElementById('live');
  const signOut = document.getElementById('sign-out');

  /** What the page shows now: the view's refresh function and the actions the token may take. */
  const state = { view: null, actions: [], signedIn: false, timer: 0 };

  class SignedOutError extends Error {}
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // ---- DOM building: text is always a text node ----

  function h(tag, props, ...children) {
    const element = document.createElement(tag);
    setProps(element, props);
    append(element, children);
    return element;
  }

  function s(tag, attributes, ...children) {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null) element.setAttribute(name, String(value));
    }
    append(element, children);
    return element;
  }

  function setProps(element, props) {
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') element.className = value;
      else if (name === 'text') element.textContent = value;
      else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else if (name === 'dataset') Object.assign(element.dataset, value);
      else if (name in element && typeof value !== 'string') element[name] = value;
      else element.setAttribute(name, value === true ? '' : String(value));
    }
  }

  function append(element, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function clear(element) {
    while (element.firstChild) element.firstChild.remove();
  }

  // ---- the API ----

  function token() {
    return sessionStorage.getItem(tokenKey);
  }

  async function api(path, options = {}) {
    const method = options.method || 'GET';
    const headers = { Accept: 'application/json' };
    const bearer = token();
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.body || {});
    }
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    if (response.status === 401) {
      showSignIn(bearer ? 'That token was not accepted. Paste the current one.' : '');
      throw new SignedOutError('signed out');
    }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  const runPath = (id) => `api/runs/${encodeURIComponent(id)}`;
  const runHref = (id) => `#/runs/${encodeURIComponent(id)}`;

  // ---- formatting ----

  function duration(ms) {
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
    const sec = Math.round(ms / 1000);
    if (sec < 3600) return `${Math.floor(sec / 60)} min ${sec % 60} s`;
    if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
    return `${Math.floor(sec / 86400)} d ${Math.floor((sec % 86400) / 3600)} h`;
  }

  const pad = (n) => String(n).padStart(2, '0');

  // Local time: today's as HH:MM:SS, older ones with their date; the title has the exact UTC time.
  function time(iso) {
    if (!iso) return h('span', { class: 'muted', text: '—' });
    const date = new Date(iso);
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    const today = new Date().toDateString() === date.toDateString();
    const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    return h('time', { datetime: iso, title: iso, text: today ? clock : `${day} ${clock}` });
  }

  function took(run) {
    if (!run.startedAt) return '—';
    const end = run.finishedAt ? Date.parse(run.finishedAt) : finished.has(run.status) ? null : Date.now();
    return end === null ? '—' : duration(Math.max(0, end - Date.parse(run.startedAt)));
  }

  function badge(status) {
    return h('span', { class: `badge status-${status}`, text: status });
  }

  function isWait(step) {
    return (
      step.status === 'sleeping' ||
      step.status === 'waiting' ||
      step.name === 'zart.sleep' ||
      step.name.startsWith('zart.event:') ||
      step.name.startsWith('zart.child-result:')
    );
  }

  // ---- values: pretty JSON, long ones cut with a button that loads the rest ----

  function truncated(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value) && value.$zartTruncated;
  }

  function valueView(value, runId) {
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
  function errorView(error, runId) {
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

  // ---- feedback ----

  let toastTimer = 0;
  function toast(message, kind) {
    const box = document.getElementById('toast');
    box.textContent = message;
    box.className = kind === 'error' ? 'toast error' : 'toast';
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (box.hidden = true), 5000);
  }

  function report(error) {
    if (error instanceof SignedOutError) return;
    toast(error instanceof Error ? error.message : String(error), 'error');
  }

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

  // ---- one run ----

  async function renderRun(id) {
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
      h(
        'section',
        { class: 'card' },
        h('h2', { text: `Children (${children.length})` }),
        childrenTree(children, run.id),
      ),
    );
    return sections;
  }

  // The steps on the run's time axis: a bar from each step's start to its end (its attempts
  // together), waits (sleeps, events, children) as dashed spans between them, so idle time reads
  // as gaps.
  function timeline(run, steps) {
    if (steps.length === 0) return h('p', { class: 'muted', text: 'No steps yet.' });
    const now = Date.now();
    const t = (iso) => Date.parse(iso);
    const spanEnd = (step) => {
      if (!isWait(step)) return t(step.finishedAt);
      if (step.status === 'sleeping' && step.wakeAt)
        return Math.min(
          t(step.wakeAt),
          finished.has(run.status) && run.finishedAt ? t(run.finishedAt) : Math.max(now, t(step.startedAt)),
        );
      if (step.status === 'waiting') return finished.has(run.status) && run.finishedAt ? t(run.finishedAt) : now;
      return t(step.finishedAt);
    };
    const origin = Math.min(run.startedAt ? t(run.startedAt) : Infinity, ...steps.map((step) => t(step.startedAt)));
    const runEnd = run.finishedAt ? t(run.finishedAt) : finished.has(run.status) ? 0 : now;
    const end = Math.max(runEnd, ...steps.map(spanEnd), origin + 1);
    const shownSteps = steps.slice(0, 300);
    // The card's inner width: the page's padding (2 × 24 px) and the card's (2 × 18 px + borders).
    const width = Math.max(640, Math.min(1400, main.clientWidth - 88));
    const labelWidth = 190;
    const tailWidth = 84;
    const rowHeight = 24;
    const top = 26;
    const plotWidth = width - labelWidth - tailWidth;
    const x = (ms) => labelWidth + ((ms - origin) / (end - origin)) * plotWidth;
    const height = top + (shownSteps.length + 1) * rowHeight + 8;
    const chart = s('svg', {
      class: 'timeline',
      id: 'timeline',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `Timeline of ${steps.length} steps`,
    });

    // Grid and axis: ticks at 1, 2 or 5 times a power of ten.
    const span = end - origin;
    const rough = span / 6;
    const power = 10 ** Math.floor(Math.log10(rough));
    const tick = [1, 2, 5, 10].map((m) => m * power).find((m) => m >= rough) || power * 10;
    for (let at = 0; at <= span; at += tick) {
      const px = x(origin + at);
      chart.append(
        s('line', { class: 'grid', x1: px, x2: px, y1: top - 6, y2: height - 4 }),
        s(
          'text',
          { class: 'tick', x: px, y: 14, 'text-anchor': at === 0 ? 'start' : 'middle' },
          at === 0 ? '0' : `+${duration(at)}`,
        ),
      );
    }

    // The run itself, as the first row.
    const runRow = top;
    chart.append(
      s('text', { class: 'row-label', x: 8, y: runRow + 16 }, 'run'),
      s(
        'rect',
        {
          class: `run-span status-${run.status}`,
          x: x(run.startedAt ? t(run.startedAt) : origin),
          y: runRow + 8,
          width: Math.max(2, x(runEnd || end) - x(run.startedAt ? t(run.startedAt) : origin)),
          height: 8,
          rx: 2,
        },
        s('title', null, `run ${run.status}, took ${took(run)}`),
      ),
    );

    shownSteps.forEach((step, index) => {
      const y = top + (index + 1) * rowHeight;
      const from = t(step.startedAt);
      const to = spanEnd(step);
      const x1 = x(from);
      const x2 = Math.max(x(to), x1 + 2);
      const wait = isWait(step);
      const info = [
        `${step.key} (${step.status})`,
        step.attempts > 1 ? `${step.attempts} attempts` : null,
        `started ${new Date(from).toISOString()}`,
        `${wait ? 'waited' : 'took'} ${duration(to - from)}`,
        step.error && !truncated(step.error) && step.error.message
          ? `${step.error.name || 'Error'}: ${step.error.message}`
          : null,
      ]
        .filter(Boolean)
        .join('\n');
      const label = step.key.length > 26 ? `${step.key.slice(0, 25)}…` : step.key;
      const group = s('g', {
        class: `step-row${wait ? ' wait' : ''}`,
        'data-step-key': step.key,
        'data-status': step.status,
        tabindex: 0,
      });
      group.append(s('title', null, info), s('text', { class: 'row-label', x: 8, y: y + 16 }, label));
      if (wait) {
        group.append(
          s('line', { class: `wait-line status-${step.status}`, x1, x2, y1: y + 12, y2: y + 12 }),
          s('circle', { class: 'wait-end', cx: x1, cy: y + 12, r: 3 }),
          s('circle', { class: 'wait-end', cx: x2, cy: y + 12, r: 3 }),
        );
      } else {
        group.append(
          s('rect', { class: `bar status-${step.status}`, x: x1, y: y + 5, width: x2 - x1, height: 14, rx: 3 }),
        );
        if (step.attempts > 1) {
          group.append(s('text', { class: 'attempts', x: x2 + 4, y: y + 16 }, `×${step.attempts}`));
        }
      }
      group.append(
        s('text', { class: 'row-duration', x: width - 6, y: y + 16, 'text-anchor': 'end' }, duration(to - from)),
      );
      group.addEventListener('click', () => openStep(step.key));
      group.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') openStep(step.key);
      });
      chart.append(group);
    });
    const legend = h(
      'div',
      { class: 'legend' },
      [
        ['completed', 'completed'],
        ['failed', 'failed'],
        ['retrying', 'retrying'],
        ['wait', 'sleep / event / child wait'],
      ].map(([kind, label]) => h('span', null, h('i', { class: `swatch swatch-${kind}` }), label)),
      steps.length > shownSteps.length
        ? h('span', { class: 'muted', text: `first ${shownSteps.length} of ${steps.length} steps` })
        : null,
    );
    return h('div', { class: 'timeline-box' }, chart, legend);
  }

  function openStep(key) {
    const details = document.querySelector(`details[data-step-key="${CSS.escape(key)}"]`);
    if (!details) return;
    details.open = true;
    details.scrollIntoView({ behavior: 'smooth', block: 'center' });
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

  // ---- dialogs for actions ----

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

  function confirmDialog(title, text, label, action, kind) {
    openDialog(title, h('p', { text }), label, action, kind);
  }

  function sendEventDialog(run) {
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

  function forkDialog(run, steps) {
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

  async function refreshNow() {
    if (state.view) await state.view.refresh().catch(report);
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
})();
