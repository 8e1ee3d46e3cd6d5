// Seeds moto's ECS with a hierarchy shaped like the HRMOS talk: 35 services, 54 tasks and
// 29 container instances over four clusters (multiplied for the 10x benchmark). Shared by the
// handler test, the browser test and scripts/bench/panopticon.js (which bundles it with esbuild).
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';

export interface SeedClusterSpec {
  readonly name: string;
  readonly services: number;
  readonly tasks: number;
  readonly containerInstances: number;
  /** Instances set to DRAINING after the tasks are placed. @default 0 */
  readonly draining?: number;
  /** Services whose running count stays below desired (moto reports running 0, pending = desired). @default 0 */
  readonly lagging?: number;
  /** Services get a `pr-number` tag, round-robin over these numbers. @default none */
  readonly prNumbers?: number[];
}

/** The talk's scale (35 / 54 / 29) times `multiplier`, spread over four clusters (more at 10x, to stay within one page of 100 per cluster). */
export function talkScale(multiplier = 1): SeedClusterSpec[] {
  const base: SeedClusterSpec[] = [
    { name: 'hrmos-production', services: 15, tasks: 24, containerInstances: 12 },
    { name: 'hrmos-staging', services: 10, tasks: 15, containerInstances: 8, draining: 1, lagging: 1 },
    { name: 'hrmos-development', services: 6, tasks: 9, containerInstances: 6 },
    { name: 'hrmos-pull-requests', services: 4, tasks: 6, containerInstances: 3, prNumbers: [101, 102] },
  ];
  if (multiplier === 1) return base;
  const out: SeedClusterSpec[] = [];
  for (let copy = 1; copy <= multiplier; copy++) {
    for (const c of base) out.push({ ...c, name: `${c.name}-${String(copy).padStart(2, '0')}` });
  }
  return out;
}

export interface SeededHierarchy {
  readonly clusters: { readonly name: string; readonly services: string[]; readonly tasks: number; readonly containerInstances: number }[];
  readonly laggingServices: string[];
  readonly totals: { readonly services: number; readonly tasks: number; readonly containerInstances: number };
}

/**
 * Launches `count` EC2 instances in moto through the EC2 query API (moto's RegisterContainerInstance
 * wants the instance of the identity document to exist; no EC2 SDK client is installed).
 */
async function runInstances(endpoint: string, region: string, count: number): Promise<string[]> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // moto_server routes by the credential scope of the signature; it does not verify it.
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: `Action=RunInstances&Version=2016-11-15&ImageId=ami-12345678&InstanceType=m6g.large&MinCount=${count}&MaxCount=${count}`,
  });
  const ids = [...(await res.text()).matchAll(/<instanceId>([^<]+)<\/instanceId>/g)].map((m) => m[1]);
  if (ids.length !== count) throw new Error(`moto RunInstances returned ${ids.length} instances, expected ${count}`);
  return ids;
}

/** Creates the clusters, instances, services and tasks of `spec` in moto and returns what it made. */
export async function seedHierarchy(ecs: ECSClient, spec: SeedClusterSpec[], motoEndpoint: string, region = 'us-east-1'): Promise<SeededHierarchy> {
  await ecs.send(new RegisterTaskDefinitionCommand({
    family: 'app',
    requiresCompatibilities: ['EC2'],
    containerDefinitions: [{ name: 'app', image: 'public.ecr.aws/docker/library/nginx:stable', cpu: 64, memory: 128 }],
  }));
  const result: SeededHierarchy['clusters'] = [];
  const lagging: string[] = [];
  for (const c of spec) {
    await ecs.send(new CreateClusterCommand({ clusterName: c.name, tags: [{ key: 'environment', value: c.name }] }));
    const instanceArns: string[] = [];
    const ec2Ids = c.containerInstances > 0 ? await runInstances(motoEndpoint, region, c.containerInstances) : [];
    for (const instanceId of ec2Ids) {
      const doc = JSON.stringify({ instanceId, region, accountId: '123456789012' });
      const r = await ecs.send(new RegisterContainerInstanceCommand({ cluster: c.name, instanceIdentityDocument: doc, instanceIdentityDocumentSignature: 'fake' }));
      instanceArns.push(r.containerInstance!.containerInstanceArn!);
    }
    const services: string[] = [];
    let placed = 0;
    for (let s = 0; s < c.services; s++) {
      const name = `${c.name}-svc-${String(s + 1).padStart(2, '0')}`;
      // Spread the cluster's tasks over its services: the first (tasks % services) get one more.
      const count = Math.floor(c.tasks / c.services) + (s < c.tasks % c.services ? 1 : 0);
      const isLagging = s < (c.lagging ?? 0);
      const tags = c.prNumbers ? [{ key: 'pr-number', value: String(c.prNumbers[s % c.prNumbers.length]) }] : undefined;
      // A lagging service wants one task more than it has.
      await ecs.send(new CreateServiceCommand({ cluster: c.name, serviceName: name, taskDefinition: 'app', desiredCount: isLagging ? count + 1 : count, tags }));
      if (isLagging) lagging.push(name);
      else await ecs.send(new UpdateServiceCommand({ cluster: c.name, service: name, desiredCount: count }));
      if (count > 0) {
        const targets = Array.from({ length: count }, (_, k) => instanceArns[(placed + k) % instanceArns.length]);
        await ecs.send(new StartTaskCommand({ cluster: c.name, taskDefinition: 'app', containerInstances: targets, group: `service:${name}`, startedBy: 'ecs-svc/seed' }));
      }
      placed += count;
      services.push(name);
    }
    if (c.draining) {
      await ecs.send(new UpdateContainerInstancesStateCommand({ cluster: c.name, containerInstances: instanceArns.slice(0, c.draining), status: 'DRAINING' }));
    }
    result.push({ name: c.name, services, tasks: placed, containerInstances: c.containerInstances });
  }
  return {
    clusters: result,
    laggingServices: lagging,
    totals: {
      services: result.reduce((n, c) => n + c.services.length, 0),
      tasks: result.reduce((n, c) => n + c.tasks, 0),
      containerInstances: result.reduce((n, c) => n + c.containerInstances, 0),
    },
  };
}
