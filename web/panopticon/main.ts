// Wires the pure view logic (model.ts) to the page: loads config.json, fetches the snapshot,
// re-renders on a timer and on filter changes, and keeps opened services open across refreshes.
import { escapeHtml, Filters, renderPullRequests, renderTree, Snapshot, summarize } from './model';

/** config.json, deployed beside the page so the bundle is the same in every environment. */
interface PanopticonConfig {
  readonly apiUrl: string;
  readonly refreshSeconds?: number;
  /** 'IAM' (the page cannot sign requests: use the CLI) or 'COGNITO' (the page signs in through the hosted UI). */
  readonly auth?: string;
  readonly signInUrl?: string;
}

const TOKEN_KEY = 'panopticon.idToken';
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const opened = new Set<string>();
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
let snapshot: Snapshot | undefined;

function filters(): Filters {
  return {
    cluster: $<HTMLSelectElement>('cluster').value,
    service: $<HTMLInputElement>('service').value,
    problemsOnly: $<HTMLInputElement>('problems').checked,
  };
}

function render(): void {
  if (!snapshot) return;
  const s = summarize(snapshot);
  $('summary').innerHTML = `${s.clusters} clusters · ${s.services} services · ${s.tasks} tasks · ${s.containerInstances} container instances`
    + ` · <span class="${s.problemServices ? 'problem' : ''}">${plural(s.problemServices, 'service')} with problems</span>`
    + ` · <span class="${s.drainingInstances ? 'problem' : ''}">${plural(s.drainingInstances, 'draining instance')}</span>`
    + ` <small>(snapshot ${escapeHtml(snapshot.generatedAt.slice(11, 19))} UTC, ${snapshot.ecsCalls} ECS calls)</small>`;
  $('prs').innerHTML = renderPullRequests(snapshot);
  $('tree').innerHTML = renderTree(snapshot, filters(), opened);
}

function updateClusterOptions(): void {
  if (!snapshot) return;
  const select = $<HTMLSelectElement>('cluster');
  const current = select.value;
  const names = snapshot.clusters.map((c) => c.name);
  select.innerHTML = '<option value="">all clusters</option>' + names.map((n) => `<option${n === current ? ' selected' : ''}>${escapeHtml(n)}</option>`).join('');
}

function setStatus(text: string, bad = false): void {
  const el = $('status');
  el.textContent = text;
  el.className = bad ? 'problem' : '';
}

async function refresh(config: PanopticonConfig): Promise<void> {
  const headers: Record<string, string> = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (config.auth === 'COGNITO' && token) headers.authorization = token;
  try {
    const res = await fetch(`${config.apiUrl.replace(/\/$/, '')}/hierarchy`, { headers, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      signInPrompt(config);
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    snapshot = (await res.json()) as Snapshot;
    updateClusterOptions();
    render();
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    // Keep showing the last snapshot: a failed refresh must not blank the dashboard.
    setStatus(`refresh failed (${String(err)}); showing the previous snapshot`, true);
  }
}

function signInPrompt(config: PanopticonConfig): void {
  if (config.auth === 'COGNITO' && config.signInUrl) {
    setStatus('');
    $('status').innerHTML = `<a href="${escapeHtml(config.signInUrl)}">Sign in</a> to see the ECS hierarchy.`;
  } else {
    setStatus('This API uses IAM (SigV4) authorisation, which a browser page cannot sign: read it with the CLI, or deploy Panopticon with Cognito authorisation for browser use.', true);
  }
}

/** The Cognito hosted UI returns the ID token in the URL fragment; keep it for this tab only. */
function captureToken(): void {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('id_token');
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

async function main(): Promise<void> {
  captureToken();
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as PanopticonConfig;
  const tree = $('tree');
  // <details> toggle events do not bubble: listen in the capture phase to remember what is open.
  tree.addEventListener('toggle', (e) => {
    const el = e.target as HTMLDetailsElement;
    const key = el.dataset.key;
    if (!key) return;
    if (el.open) opened.add(key); else opened.delete(key);
  }, true);
  for (const id of ['cluster', 'service', 'problems']) $(id).addEventListener('input', render);
  if (config.auth === 'COGNITO' && !sessionStorage.getItem(TOKEN_KEY)) {
    signInPrompt(config);
    return;
  }
  await refresh(config);
  setInterval(() => void refresh(config), Math.max(5, config.refreshSeconds ?? 30) * 1000);
}

void main();
