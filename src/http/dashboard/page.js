// What every part of the dashboard shares: building elements (text always as text nodes, never
// markup), formatting times and durations, the page's state, and feedback (a toast).
import { SignedOutError } from './api.js';

export const statuses = ['pending', 'running', 'waiting', 'completed', 'failed', 'cancelled'];
export const finished = new Set(['completed', 'failed', 'cancelled']);
export const main = document.getElementById('main');
export const dialog = document.getElementById('dialog');

/** What the page shows now: the view's refresh function and the actions the token may take. */
export const state = { view: null, actions: [], signedIn: false, timer: 0 };

// ---- DOM building: text is always a text node ----

export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  setProps(element, props);
  append(element, children);
  return element;
}

export function s(tag, attributes, ...children) {
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

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
}

// ---- formatting ----

export function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const sec = Math.round(ms / 1000);
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${sec % 60} s`;
  if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
  return `${Math.floor(sec / 86400)} d ${Math.floor((sec % 86400) / 3600)} h`;
}

const pad = (n) => String(n).padStart(2, '0');

// Local time: today's as HH:MM:SS, older ones with their date; the title has the exact UTC time.
export function time(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const date = new Date(iso);
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const today = new Date().toDateString() === date.toDateString();
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return h('time', { datetime: iso, title: iso, text: today ? clock : `${day} ${clock}` });
}

export function took(run) {
  if (!run.startedAt) return '—';
  const end = run.finishedAt ? Date.parse(run.finishedAt) : finished.has(run.status) ? null : Date.now();
  return end === null ? '—' : duration(Math.max(0, end - Date.parse(run.startedAt)));
}

export function badge(status) {
  return h('span', { class: `badge status-${status}`, text: status });
}

export function isWait(step) {
  return (
    step.status === 'sleeping' ||
    step.status === 'waiting' ||
    step.name === 'zart.sleep' ||
    step.name.startsWith('zart.event:') ||
    step.name.startsWith('zart.child-result:')
  );
}

// ---- feedback ----

let toastTimer = 0;
export function toast(message, kind) {
  const box = document.getElementById('toast');
  box.textContent = message;
  box.className = kind === 'error' ? 'toast error' : 'toast';
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), 5000);
}

export function report(error) {
  if (error instanceof SignedOutError) return;
  toast(error instanceof Error ? error.message : String(error), 'error');
}

/** Refreshes the current view now (after an action, when Live is switched on, on each tick). */
export async function refreshNow() {
  if (state.view) await state.view.refresh().catch(report);
}
