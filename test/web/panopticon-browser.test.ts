import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { syntheticSnapshot } from './panopticon-fixtures';
import { MotoServer, startMoto } from '../support/moto';
import { SeededHierarchy, seedHierarchy, talkScale } from '../panopticon/seed';

const root = path.join(__dirname, '..', '..');
const site = path.join(root, 'assets', 'web', 'panopticon');
const artifacts = path.join(root, 'test-artifacts');

type LambdaHandler = (event: { httpMethod: string; path: string; headers: Record<string, string> }) => Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;

/**
 * Serves the BUILT page (assets/web/panopticon) and answers `/api/hierarchy` by invoking the built
 * Lambda bundle, as API Gateway's proxy integration would; `/big/hierarchy` serves a synthetic
 * snapshot at ten times the talk's scale.
 */
function startServer(handler: LambdaHandler, config: () => object): Promise<{ url: string; close: () => Promise<void> }> {
  const big = JSON.stringify(syntheticSnapshot(10));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (status: number, type: string, body: string | Buffer) => { res.writeHead(status, { 'content-type': type }); res.end(body); };
    if (url.pathname === '/' || url.pathname === '/index.html') return send(200, 'text/html', fs.readFileSync(path.join(site, 'index.html')));
    if (url.pathname === '/bundle.js') return send(200, 'text/javascript', fs.readFileSync(path.join(site, 'bundle.js')));
    if (url.pathname === '/config.json') return send(200, 'application/json', JSON.stringify(config()));
    if (url.pathname === '/big/hierarchy') return send(200, 'application/json', big);
    if (url.pathname === '/api/hierarchy') {
      handler({ httpMethod: req.method ?? 'GET', path: '/hierarchy', headers: {} }).then(
        (r) => { res.writeHead(r.statusCode, r.headers); res.end(r.body); },
        (err) => send(500, 'text/plain', String(err)),
      );
      return;
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
    server = await startServer(handler, () => ({ apiUrl: `${server.url}${apiPath}`, refreshSeconds: 5, auth: 'IAM' }));
    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'panopticon-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
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

  test('stays usable at ten times the scale: services collapsed, shown within 5 s of a reload', async () => {
    apiPath = '/big';
    const started = Date.now();
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('[data-service]').length === 350, undefined, { timeout: 20000 });
    const elapsed = Date.now() - started;
    expect(await page.locator('[data-task]').count()).toBe(540);
    expect(await page.locator('details.service[open]').count()).toBe(0);
    expect(elapsed).toBeLessThan(5000);
    // Opening a service survives the next refresh.
    await page.locator('details[data-service="cluster-0-1-svc-00"] > summary').click();
    await page.waitForTimeout(5500);
    expect(await page.locator('details.service[open]').count()).toBe(1);
    await page.screenshot({ path: path.join(artifacts, 'panopticon-10x.png') });
  });
});
