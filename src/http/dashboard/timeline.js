// A run's steps drawn on its time axis as SVG, built element by element.
import { duration, finished, h, isWait, main, s, took } from './page.js';
import { truncated } from './values.js';

// The steps on the run's time axis: a bar from each step's start to its end (its attempts
// together), waits (sleeps, events, children) as dashed spans between them, so idle time reads
// as gaps.
export function timeline(run, steps) {
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
