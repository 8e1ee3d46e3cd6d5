// Wires the pure view logic (model.ts) to the page: loads config.json, signs in (Cognito mode) with
// the authorization code flow and PKCE, fetches the snapshot, re-renders on a timer and on filter
// changes, and keeps opened services open across refreshes. Everything is built with createElement
// and text nodes: no data read from AWS or Kubernetes is ever parsed as HTML.
import { Child, Filters, renderEksTree, renderHosts, renderPullRequests, renderTree, Snapshot, summarize, VNode } from './model';

/** config.json, deployed beside the page so the bundle is the same in every environment. */
interface PanopticonConfig {
  readonly apiUrl: string;
  readonly refreshSeconds?: number;
  /** 'IAM' (the page cannot sign requests: use the CLI) or 'COGNITO' (the page signs in through the hosted UI). */
  readonly auth?: string;
  /** Hosted UI authorize URL with client_id, response_type=code, scope and redirect_uri. */
  readonly signInUrl?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly redirectUri?: string;
}

/** Only the PKCE verifier and state survive the redirect (sessionStorage, this tab); tokens never leave memory. */
const PKCE_KEY = 'panopticon.pkce';
let accessToken: string | undefined;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const opened = new Set<string>();
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
let snapshot: Snapshot | undefined;
let view: 'tree' | 'hosts' = 'tree';

/** Turns a VNode into DOM: attributes via setAttribute, strings as text nodes; links only to https (or this origin in tests). */
function toDom(node: Child): Node {
  if (typeof node === 'string') return document.createTextNode(node);
  const el = document.createElement(node.tag);
  for (const [k, v] of Object.entries(node.attrs)) {
    if (k === 'href' && !/^https:\/\//.test(v)) continue;
    if (k === 'data-fill') { el.style.width = `${Number(v)}%`; continue; } // CSSOM, allowed by the CSP
    el.setAttribute(k, v);
  }
  for (const c of node.children) el.appendChild(toDom(c));
  return el;
}
const show = (id: string, nodes: VNode[]): void => $(id).replaceChildren(...nodes.map(toDom));

function filters(): Filters {
  return {
    cluster: $<HTMLSelectElement>('cluster').value,
    service: $<HTMLInputElement>('service').value,
    problemsOnly: $<HTMLInputElement>('problems').checked,
  };
}

function render(): void {
  if (!snapshot) return;
  const started = performance.now();
  const s = summarize(snapshot);
  const eks = snapshot.eks ?? [];
  const span = (text: string, bad: boolean): HTMLElement => { const el = document.createElement('span'); el.textContent = text; if (bad) el.className = 'problem'; return el; };
  const small = document.createElement('small');
  small.textContent = ` (snapshot ${snapshot.generatedAt.slice(11, 19)} UTC, ${snapshot.ecsCalls} ECS calls${eks.length ? `, ${snapshot.kubernetesCalls ?? 0} Kubernetes calls` : ''})`;
  $('summary').replaceChildren(
    `${s.clusters} clusters · ${s.services} services · ${s.tasks} tasks · ${s.containerInstances} container instances`
      + (eks.length ? ` · ${plural(eks.length, 'EKS cluster')} · ${eks.reduce((n, c) => n + c.pods.length, 0)} pods` : '') + ' · ',
    span(`${plural(s.problemServices, 'service')} with problems`, s.problemServices > 0), ' · ',
    span(plural(s.drainingInstances, 'draining instance'), s.drainingInstances > 0), small);
  show('prs', renderPullRequests(snapshot));
  const f = filters();
  $('tree').hidden = view !== 'tree';
  $('hosts').hidden = view !== 'hosts';
  if (view === 'tree') show('tree', [...renderTree(snapshot, f, opened), ...renderEksTree(snapshot, f, opened)]);
  else show('hosts', renderHosts(snapshot, f));
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-view]'))) b.setAttribute('aria-pressed', String(b.dataset.view === view));
  // How long building the DOM took, for the browser test's figures.
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
}

function updateClusterOptions(): void {
  if (!snapshot) return;
  const select = $<HTMLSelectElement>('cluster');
  const current = select.value;
  const names = [...snapshot.clusters.map((c) => c.name), ...(snapshot.eks ?? []).map((c) => c.name)];
  const all = document.createElement('option');
  all.value = '';
  all.textContent = 'all clusters';
  select.replaceChildren(all, ...names.map((n) => { const o = document.createElement('option'); o.textContent = n; o.value = n; o.selected = n === current; return o; }));
}

function setStatus(text: string, bad = false): void {
  const el = $('status');
  el.textContent = text;
  el.className = bad ? 'problem' : '';
}

async function refresh(config: PanopticonConfig): Promise<void> {
  const headers: Record<string, string> = {};
  if (config.auth === 'COGNITO' && accessToken) headers.authorization = accessToken;
  try {
    const res = await fetch(`${config.apiUrl.replace(/\/$/, '')}/hierarchy`, { headers, cache: 'no-store' });
    if (res.status === 401 || res.status === 403) {
      accessToken = undefined;
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

// --- sign-in: authorization code + PKCE (RFC 7636)
const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)));

async function signIn(config: PanopticonConfig): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  location.assign(`${config.signInUrl}&code_challenge=${challenge}&code_challenge_method=S256&state=${state}`);
}

function signInPrompt(config: PanopticonConfig, problem?: string): void {
  if (config.auth === 'COGNITO' && config.signInUrl) {
    const button = document.createElement('button');
    button.id = 'sign-in';
    button.textContent = 'Sign in';
    button.addEventListener('click', () => void signIn(config));
    $('status').className = problem ? 'problem' : '';
    $('status').replaceChildren(...(problem ? [`${problem}. `] : []), button, ' to see the ECS and EKS hierarchy.');
  } else {
    setStatus('This API uses IAM (SigV4) authorisation, which a browser page cannot sign: read it with the CLI, or deploy Panopticon with Cognito authorisation for browser use.', true);
  }
}

/**
 * Back from the hosted UI with ?code=&state=: exchange the code (with the verifier) for tokens kept
 * in memory. Returns why sign-in failed, if it did.
 */
async function completeSignIn(config: PanopticonConfig): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!code) return undefined;
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, '', location.pathname);
  const pkce = saved ? (JSON.parse(saved) as { verifier: string; state: string }) : undefined;
  if (!pkce || params.get('state') !== pkce.state || !config.tokenUrl || !config.clientId || !config.redirectUri) {
    return 'The sign-in answer did not match this tab\'s request';
  }
  const res = await fetch(config.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: config.redirectUri, code_verifier: pkce.verifier }),
  });
  if (!res.ok) return `Sign-in failed (HTTP ${res.status})`;
  const tokens = (await res.json()) as { access_token?: string };
  accessToken = tokens.access_token;
  return accessToken ? undefined : 'Sign-in returned no access token';
}

async function main(): Promise<void> {
  const config = (await (await fetch('config.json', { cache: 'no-store' })).json()) as PanopticonConfig;
  const signInProblem = config.auth === 'COGNITO' ? await completeSignIn(config) : undefined;
  for (const id of ['tree', 'hosts']) {
    // <details> toggle events do not bubble: listen in the capture phase to remember what is open.
    $(id).addEventListener('toggle', (e) => {
      const el = e.target as HTMLDetailsElement;
      const key = el.dataset.key;
      if (!key) return;
      if (el.open) opened.add(key); else opened.delete(key);
    }, true);
  }
  for (const id of ['cluster', 'service', 'problems']) $(id).addEventListener('input', render);
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-view]'))) {
    b.addEventListener('click', () => { view = b.dataset.view === 'hosts' ? 'hosts' : 'tree'; render(); });
  }
  if (config.auth === 'COGNITO' && !accessToken) {
    signInPrompt(config, signInProblem);
    return;
  }
  await refresh(config);
  setInterval(() => void refresh(config), Math.max(5, config.refreshSeconds ?? 30) * 1000);
}

void main();
