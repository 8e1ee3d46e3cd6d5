/**
 * Issue 19: every example stack deletes without manual steps. What survives a delete (and why) is
 * in stateful-resources.test.ts; this test checks the order CloudFormation deletes in and the
 * settings that would make a delete wait forever.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';
import { testApp } from '../support/app';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { addonStack, importedCluster } from '../eks/addons/test-cluster';
import { DeleteOrder, ecsTeardownProblems, eksTeardownProblems } from '../support/teardown';

const app = testApp();
addExampleStacks(app);
const templates = Object.fromEntries(app.node.children.filter((c): c is Stack => Stack.isStack(c)).map((stack) => [stack.stackName, Template.fromStack(stack).toJSON()]));
const orders = Object.fromEntries(app.node.children.filter((c): c is Stack => Stack.isStack(c))
  .map((stack) => [stack.stackName, new DeleteOrder(templates[stack.stackName].Resources)]));
/** Types whose deletion policy was chosen, with the reason (shared with stateful-resources.test.ts). */
const statefulList = JSON.parse(fs.readFileSync(path.join(__dirname, 'stateful-resources.json'), 'utf-8'));
const disposableStacks: Record<string, string> = statefulList.disposableStacks;
/** Account-wide settings aws-cdk-lib retains, by `stack/logicalId`, with the reason. */
const retainedSettings: Record<string, string> = statefulList.retainedSettings;
/** Types whose deletion policy was chosen, with the reason (shared with stateful-resources.test.ts). */
const statefulTypes: Record<string, { deletionPolicy: string; why: string }> = statefulList.types;

/** Resources a delete leaves behind: DeletionPolicy other than Delete. */
function survivors(stackName: string): Array<{ id: string; type: string; policy: string }> {
  return Object.entries<{ Type: string; DeletionPolicy?: string }>(templates[stackName].Resources)
    .filter(([, r]) => (r.DeletionPolicy ?? 'Delete') !== 'Delete')
    .map(([id, r]) => ({ id, type: r.Type, policy: r.DeletionPolicy! }));
}

afterAll(() => {
  if (!process.env.TEARDOWN_REPORT) return;
  const lines = Object.keys(templates).map((name) => {
    const byType = new Map<string, number>();
    const all = survivors(name);
    const settings = all.filter((s) => retainedSettings[`${name}/${s.id}`] !== undefined);
    for (const s of all.filter((x) => !settings.includes(x))) byType.set(s.type, (byType.get(s.type) ?? 0) + 1);
    const kept = [...[...byType].map(([type, n]) => `${n} × ${type} (${statefulTypes[type]?.why ?? 'no reason listed'})`),
      ...settings.map((s) => `${s.type} ${s.id} (${retainedSettings[`${name}/${s.id}`]})`)];
    return `- ${name}: ${kept.length === 0 ? 'nothing survives a delete' : kept.join('; ')}`;
  });
  process.stdout.write(`\nRetained on delete, per example stack:\n${lines.join('\n')}\n`);
});

describe.each(Object.keys(orders))('%s', (stackName) => {
  const order = orders[stackName];

  test('ECS: services before the capacity provider association, then providers, groups, cluster; no termination protection', () => {
    expect(ecsTeardownProblems(order)).toEqual([]);
  });

  test('what survives a delete is only what stateful-resources.json retains, for its reason (per-PR environments: nothing)', () => {
    const unexplained = survivors(stackName)
      .filter((s) => disposableStacks[stackName] !== undefined
        || (statefulTypes[s.type]?.deletionPolicy !== s.policy && retainedSettings[`${stackName}/${s.id}`] === undefined))
      .map((s) => `${s.type} ${s.id} survives a delete (DeletionPolicy ${s.policy}) without a reason in stateful-resources.json`);
    expect(unexplained).toEqual([]);
  });

  test('EKS: finalizer holders before their controllers, namespaces before the ALB controller and KEDA, Ingresses before their IngressClass', () => {
    expect(eksTeardownProblems(order)).toEqual([]);
  });
});

test('every retained account setting still exists (a stale entry would excuse a future resource)', () => {
  const missing = Object.keys(retainedSettings).filter((key) => {
    const [stack, id] = key.split('/');
    return templates[stack]?.Resources[id]?.DeletionPolicy !== 'Retain';
  });
  expect(missing).toEqual([]);
});

test('the ECS examples are covered (the check has clusters to look at)', () => {
  const withAssociations = Object.entries(orders).filter(([, o]) => o.ofType('AWS::ECS::ClusterCapacityProviderAssociations').length > 0).map(([name]) => name).sort();
  expect(withAssociations).toEqual(['CrossPlatformDiscovery', 'PanopticonPr101', 'PanopticonPr102', 'RailsOnEcs']);
});

test('the EKS examples are covered (Ingresses, namespaces and controllers to order)', () => {
  const withIngress = Object.entries(orders)
    .filter(([, o]) => o.ofType('Custom::AWSCDK-EKS-KubernetesResource').some((id) => JSON.stringify(o.properties(id).Manifest).includes('\\"kind\\":\\"Ingress\\"')))
    .map(([name]) => name).sort();
  expect(withIngress).toEqual(['EksMultiTeam', 'EksPlatform']);
});

test('the EKS check catches manifests left unordered (plain aws-cdk-lib: nothing orders them)', () => {
  const stack = addonStack();
  const cluster = importedCluster(stack);
  new eks.HelmChart(stack, 'Controller', { cluster, chart: 'aws-load-balancer-controller', repository: 'https://aws.github.io/eks-charts', version: '1.14.0', namespace: 'kube-system' });
  new eks.KubernetesManifest(stack, 'Class', { cluster, manifest: [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'alb' }, spec: { controller: 'ingress.k8s.aws/alb' } }] });
  new eks.KubernetesManifest(stack, 'Namespace', { cluster, manifest: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }] });
  new eks.KubernetesManifest(stack, 'Ingress', {
    cluster, manifest: [{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'shop' }, spec: { ingressClassName: 'alb', defaultBackend: { service: { name: 'web', port: { number: 80 } } } } }],
  });
  const problems = eksTeardownProblems(new DeleteOrder(Template.fromStack(stack).toJSON().Resources));
  expect(problems).toEqual([
    expect.stringMatching(/^Namespace\w+ is not deleted before Controller\w+: the namespace's objects may carry its finalizers/),
    expect.stringMatching(/^Ingress\w+ is not deleted before Controller\w+: Ingress need it running/),
    expect.stringMatching(/^Ingress\w+ is not deleted before Class\w+: Ingress web would be stuck without its IngressClass alb/),
  ]);
});
