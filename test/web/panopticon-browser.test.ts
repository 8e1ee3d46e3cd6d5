import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { syntheticEks, syntheticSnapshot } from './panopticon-fixtures';
import { MotoServer, startMoto } from '../support/moto';
import { SeededHierarchy, seedHierarchy, talkScale } from '../panopticon/seed';

const root = path.join(__dirname, '..', '..');
const site = path.join(root, 'assets', 'web', 'panopticon');
const artifacts = path.join(root, 'test-artifacts');

type LambdaHandler = (event: { httpMethod: string; path: string; headers: Record<string, string> }) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

/** The page's CSP as the CloudFront response-headers policy sends it (same inline-style hash rule, same-origin API here). */
function contentSecurityPolicy(): string {
  const html = fs.readFileSync(path.join(site, 'index.html'), 'utf-8');
  const hashes = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf-8').digest('base64')}'`);
  return `default-src 'none'; script-src 'self'; style-src 'self' ${hashes.join(' ')}; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}

/** What the stand-in authorization server saw: the PKCE challenge, the verifier, and the token it issued. */
interface AuthLog { challenge?: string; method?: string; verifier?: string; issued?: string; apiAuthorization?: string[] }

/**
 * Serves the BUILT page (assets/web/panopticon) with the production CSP and answers `/api/hierarchy`
 * by invoking the built Lambda bundle, as API Gateway's proxy integration would, adding two
 * synthetic EKS clusters (the built bundle has no EKS cluster to reach here); `/big/hierarchy`
 * serves a synthetic snapshot at ten times the talk's scale. `/oauth2/*` stand in for the Cognito
 * hosted UI (authorize + token with PKCE) and `/secure/hierarchy` for the Cognito authorizer.
 */
function startServer(handler: LambdaHandler, config: () => object, auth: AuthLog): Promise<{ url: string; close: () => Promise<void> }> {
  const big = JSON.stringify({ ...syntheticSnapshot(10), eks: syntheticEks(10), kubernetesCalls: 50, region: 'us-east-1' });
  const csp = contentSecurityPolicy();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'content-security-policy': csp, 'x-content-type-options': 'nosniff', ...extra });
      res.end(body);
    };
    if (url.pathname === '/' || url.pathname === '/index.html') return send(200, 'text/html', fs.readFileSync(path.join(site, 'index.html')));
    if (url.pathname === '/bundle.js') return send(200, 'text/javascript', fs.readFileSync(path.join(site, 'bundle.js')));
    if (url.pathname === '/config.json') return send(200, 'application/json', JSON.stringify(config()));
    if (url.pathname === '/big/hierarchy') return send(200, 'application/json', big);
    const fromLambda = (then: (r: { statusCode: number; headers: Record<string, string>; body: string }) => void) => handler({ httpMethod: req.method ?? 'GET', path: '/hierarchy', headers: {} }).then(
      (r) => then(r.statusCode === 200 ? { ...r, body: JSON.stringify({ ...JSON.parse(r.body), eks: syntheticEks(2), kubernetesCalls: 10, region: 'us-east-1' }) } : r),
      (err) => send(500, 'text/plain', String(err)),
    );
    if (url.pathname === '/api/hierarchy') return void fromLambda((r) => { res.writeHead(r.statusCode, r.headers); res.end(r.body); });
    if (url.pathname === '/oauth2/authorize') {
      auth.challenge = url.searchParams.get('code_challenge') ?? undefined;
      auth.method = url.searchParams.get('code_challenge_method') ?? undefined;
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', 'one-time-code');
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return void res.end();
    }
    if (url.pathname === '/oauth2/token') {
      let body = '';
      req.on('data', (c) => { body += String(c); });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        auth.verifier = form.get('code_verifier') ?? undefined;
        const expected = auth.verifier ? createHash('sha256').update(auth.verifier).digest('base64url') : '';
        if (form.get('grant_type') !== 'authorization_code' || form.get('code') !== 'one-time-code' || expected !== auth.challenge) {
          return send(400, 'application/json', JSON.stringify({ error: 'invalid_grant' }));
        }
        auth.issued = `access-${expected.slice(0, 12)}`;
        send(200, 'application/json', JSON.stringify({ access_token: auth.issued, id_token: 'id', token_type: 'Bearer', expires_in: 3600 }));
      });
      return;
    }
    if (url.pathname === '/secure/hierarchy') {
      (auth.apiAuthorization ??= []).push(String(req.headers.authorization));
      if (!auth.issued || req.headers.authorization !== auth.issued) return send(401, 'application/json', '{"message":"Unauthorized"}');
      return void fromLambda((r) => { res.writeHead(r.statusCode, r.headers); res.end(r.body); });
    }
    send(404, 'text/plain', 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
  }));
}

describe('panopticon page in headless Chromium against the built bundle, the built handler and moto', () => {
  let moto: MotoServer;
  let seeded: SeededHierarchy;
  let server: { url: string; close: () => Promise<void> };
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let apiPath = '/api';
  let authMode: 'IAM' | 'COGNITO' = 'IAM';
  const auth: AuthLog = {};
  const cspViolations: string[] = [];
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    moto = await startMoto();
    seeded = await seedHierarchy(new ECSClient(moto.clientConfig), talkScale(1), moto.endpoint);
    // The built Lambda bundle creates its ECS client from the environment, exactly as in Lambda.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECS: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing',
      CACHE_TTL_SECONDS: '10', POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(path.join(root, 'assets', 'handlers', 'panopticon-api', 'index.js')) as { handler: LambdaHandler };
    server = await startServer(handler, () => (authMode === 'IAM' ? { apiUrl: `${server.url}${apiPath}`, refreshSeconds: 5, auth: 'IAM' } : {
      apiUrl: `${server.url}/secure`, refreshSeconds: 5, auth: 'COGNITO', clientId: 'client-1', redirectUri: `${server.url}/index.html`, tokenUrl: `${server.url}/oauth2/token`,
      signInUrl: `${server.url}/oauth2/authorize?client_id=client-1&response_type=code&scope=openid+panopticon%2Fread&redirect_uri=${encodeURIComponent(`${server.url}/index.html`)}`,
    }), auth);
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'panopticon-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('section.cluster', { timeout: 20000 });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await moto?.stop();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  test('the tree shows every seeded cluster, service and task', async () => {
    const clusters = await page.$$eval('section.cluster', (els) => els.map((e) => (e as HTMLElement).dataset.cluster));
    expect(clusters).toEqual(seeded.clusters.map((c) => c.name).sort());
    const services = await page.$$eval('[data-service]', (els) => els.map((e) => (e as HTMLElement).dataset.service));
    expect(services.sort()).toEqual(seeded.clusters.flatMap((c) => c.services).sort());
    expect(await page.locator('[data-task]').count()).toBe(54);
    await expect(page.locator('#summary').textContent()).resolves.toContain('4 clusters · 35 services · 54 tasks · 29 container instances');
  });

  test('the lagging service is highlighted as a problem, and the draining instance is counted', async () => {
    const lagging = page.locator(`details[data-service="${seeded.laggingServices[0]}"]`);
    await expect(lagging.getAttribute('class')).resolves.toContain('bad');
    await expect(lagging.locator('summary .problem').first().textContent()).resolves.toMatch(/running 0 of \d/);
    const healthy = page.locator('details[data-service="hrmos-production-svc-01"]');
    await expect(healthy.getAttribute('class')).resolves.toBe('service');
    await expect(page.locator('#summary').textContent()).resolves.toContain('1 service with problems · 1 draining instance');
  });

  test('groups the pull-request services by their pr-number tag', async () => {
    await expect(page.locator('#prs li[data-pr]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.pr))).resolves.toEqual(['101', '102']);
  });

  test('saves a screenshot of the tree, with the problem service in view, as a test artifact', async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    await page.evaluate(() => {
      document.querySelector('section[data-cluster="hrmos-staging"]')!.scrollIntoView({ block: 'start' });
      window.scrollBy(0, -60); // below the sticky header
    });
    const file = path.join(artifacts, 'panopticon.png');
    await page.screenshot({ path: file, fullPage: false });
    expect(fs.statSync(file).size).toBeGreaterThan(10000);
  });

  test('filters by cluster and by service name', async () => {
    await page.selectOption('#cluster', 'hrmos-staging');
    expect(await page.locator('section.cluster').count()).toBe(1);
    expect(await page.locator('[data-service]').count()).toBe(10);
    await page.selectOption('#cluster', '');
    await page.fill('#service', 'svc-03');
    expect(await page.locator('[data-service]').count()).toBe(4);
    await page.fill('#service', '');
  });

  test('the EKS tree shows namespace → workload → pod → node, with problems marked', async () => {
    expect(await page.locator('section[data-eks]').count()).toBe(2);
    const eks = page.locator('section[data-eks="eks-1"]');
    expect(await eks.locator('[data-namespace]').count()).toBe(4);
    expect(await eks.locator('[data-workload]').count()).toBe(35);
    expect(await eks.locator('[data-pod]').count()).toBe(54);
    await expect(eks.locator('details[data-workload="team-0/app-00"]').getAttribute('class')).resolves.toContain('bad');
    await expect(eks.locator('details[data-workload="team-0/app-00"] summary .problem').first().textContent()).resolves.toBe('ready 1 of 2');
    await page.evaluate(() => {
      document.querySelector('section[data-eks="eks-1"]')!.scrollIntoView({ block: 'start' });
      window.scrollBy(0, -60);
    });
    await page.screenshot({ path: path.join(artifacts, 'panopticon-eks.png') });
  });

  test('the host view shows each instance and node as a box with reservation bars and its tasks/pods', async () => {
    await page.click('button[data-view="hosts"]');
    await page.waitForSelector('#hosts [data-host]');
    expect(await page.locator('#tree').isHidden()).toBe(true);
    // 29 container instances + 1 Fargate box (standalone/Fargate tasks, if any) + 2 × 29 nodes + unscheduled boxes.
    expect(await page.locator('#hosts section[data-hosts]').count()).toBe(4 + 2);
    expect(await page.locator('#hosts section[data-hosts="eks-1"] [data-host]').count()).toBe(29 + 1);
    expect(await page.locator('#hosts [data-task]').count()).toBe(54);
    const draining = page.locator('#hosts .host.bad').first();
    await expect(draining.textContent()).resolves.toMatch(/draining|not ready|cordoned|unscheduled/);
    // The bars are sized through the CSSOM (the CSP allows no inline style attributes).
    const width = await page.locator('#hosts .bar-fill').first().evaluate((el) => (el as HTMLElement).style.width);
    expect(width).toMatch(/^\d+%$/);
    await page.evaluate(() => {
      document.querySelector('#hosts section[data-hosts="hrmos-staging"]')!.scrollIntoView({ block: 'start' });
      window.scrollBy(0, -60); // below the sticky header
    });
    await page.screenshot({ path: path.join(artifacts, 'panopticon-hosts.png') });
    await page.click('button[data-view="tree"]');
    await page.waitForSelector('#tree section.cluster');
  });

  test('PR environments show their status and services; the screenshot shows them', async () => {
    const pr = page.locator('#prs li[data-pr="101"]');
    await expect(pr.textContent()).resolves.toMatch(/PR #101 (healthy|.*with problems).*deployed: /);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifacts, 'panopticon-prs.png') });
  });

  test('the page runs under the production CSP without a single violation', () => {
    expect(cspViolations).toEqual([]);
  });

  // Times are recorded in test-artifacts/panopticon-figures.json for the closing note, not asserted: a shared CI machine's load is not the page's cost.
  test('stays usable at ten times the scale: every service shown, collapsed', async () => {
    apiPath = '/big';
    const started = Date.now();
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-service]').length === 350, undefined, { timeout: 20000 });
    const elapsed = Date.now() - started;
    figures.firstRenderAt10xMs = elapsed;
    figures.treeDomBuildAt10xMs = Number(await page.evaluate(() => document.body.dataset.renderMs));
    expect(await page.locator('[data-task]').count()).toBe(540);
    // ECS services collapsed; only EKS workloads with problems open themselves (one per cluster).
    expect(await page.locator('details[data-service][open]').count()).toBe(0);
    expect(await page.locator('details[data-workload][open]').count()).toBe(10);
    // Opening a service survives the next refresh.
    await page.locator('details[data-service="cluster-0-1-svc-00"] > summary').click();
    await page.waitForTimeout(5500);
    expect(await page.locator('details[data-service][open]').count()).toBe(1);
    await page.screenshot({ path: path.join(artifacts, 'panopticon-10x.png') });
  });

  test('the host view at ten times the scale shows every host', async () => {
    const started = Date.now();
    await page.click('button[data-view="hosts"]');
    await page.waitForFunction(() => document.querySelectorAll('#hosts [data-host]').length >= 290 + 290, undefined, { timeout: 20000 });
    figures.hostViewAt10xMs = Date.now() - started;
    figures.hostDomBuildAt10xMs = Number(await page.evaluate(() => document.body.dataset.renderMs));
    fs.writeFileSync(path.join(artifacts, 'panopticon-figures.json'), JSON.stringify(figures, null, 2));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(artifacts, 'panopticon-hosts-10x.png') });
    await page.click('button[data-view="tree"]');
  });

  test('signs in with authorization code + PKCE against a stand-in authorization server, and keeps the token in memory only', async () => {
    authMode = 'COGNITO';
    const signInPage = await context.newPage();
    await signInPage.goto(`${server.url}/`);
    await signInPage.click('#sign-in');
    await signInPage.waitForSelector('section.cluster', { timeout: 20000 });
    expect(auth.method).toBe('S256');
    expect(auth.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createHash('sha256').update(auth.verifier!).digest('base64url')).toBe(auth.challenge);
    expect(auth.apiAuthorization).toContain(auth.issued);
    expect(signInPage.url()).toBe(`${server.url}/index.html`); // code and state removed from the address bar
    const stored = await signInPage.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }) + document.cookie);
    expect(stored).not.toContain(auth.issued!);
    expect(stored).not.toContain('one-time-code');
    await signInPage.close();
    authMode = 'IAM';
  });

  test('a sign-in answer whose state does not match this tab is refused', async () => {
    authMode = 'COGNITO';
    const other = await context.newPage();
    await other.goto(`${server.url}/index.html?code=one-time-code&state=forged`);
    await expect(other.locator('#status').textContent()).resolves.toMatch(/did not match this tab's request\. Sign in to see/);
    expect(await other.locator('section.cluster').count()).toBe(0);
    await other.close();
    authMode = 'IAM';
  });
});
