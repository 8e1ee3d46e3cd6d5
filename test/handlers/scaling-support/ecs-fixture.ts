import {
  ECSClient, CreateClusterCommand, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, RunTaskCommand, Task,
} from '@aws-sdk/client-ecs';
import { MotoServer } from '../../support/moto';

/**
 * Launches EC2 instances in moto through the EC2 query API (the EC2 SDK client is not a dependency;
 * moto does not check signatures, it only routes on the credential scope).
 */
export async function runInstances(moto: MotoServer, count: number): Promise<string[]> {
  const body = new URLSearchParams({
    Action: 'RunInstances', Version: '2016-11-15', ImageId: 'ami-03cf127a', InstanceType: 'm7g.large',
    MinCount: String(count), MaxCount: String(count),
  });
  const res = await fetch(moto.endpoint, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
    },
  });
  const xml = await res.text();
  if (!res.ok) throw new Error(`RunInstances failed: ${xml}`);
  return [...xml.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)].map((m) => m[1]);
}

export interface Fleet {
  readonly cluster: string;
  /** EC2 instance id → container instance ARN. */
  readonly containerInstances: Map<string, string>;
}

export async function clusterWithInstances(moto: MotoServer, ecs: ECSClient, cluster: string, count: number): Promise<Fleet> {
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const ids = await runInstances(moto, count);
  const containerInstances = new Map<string, string>();
  for (const id of ids) {
    const out = await ecs.send(new RegisterContainerInstanceCommand({ cluster, instanceIdentityDocument: JSON.stringify({ instanceId: id }) }));
    containerInstances.set(id, out.containerInstance!.containerInstanceArn!);
  }
  return { cluster, containerInstances };
}

export async function registerWorkerTaskDefinition(ecs: ECSClient, family = 'worker'): Promise<string> {
  const out = await ecs.send(new RegisterTaskDefinitionCommand({
    family,
    containerDefinitions: [{ name: 'sidekiq', image: 'example/worker:1', memory: 256, cpu: 64, essential: true }],
  }));
  return out.taskDefinition!.taskDefinitionArn!;
}

/** Runs `count` tasks of a service's group (moto places them on ACTIVE instances). */
export async function runServiceTasks(ecs: ECSClient, cluster: string, taskDefinition: string, service: string, count: number): Promise<Task[]> {
  const out = await ecs.send(new RunTaskCommand({ cluster, taskDefinition, count, group: `service:${service}`, launchType: 'EC2' }));
  return out.tasks ?? [];
}

/** An SDK-shaped error with the name the SDK gives a throttled call. */
export function throttlingError(): Error {
  const err = new Error('Rate exceeded');
  err.name = 'ThrottlingException';
  return err;
}

/**
 * moto advances a task's lastStatus on every DescribeTasks (RUNNING → DEACTIVATING → STOPPING ...);
 * pin tasks at RUNNING so the handlers see the fleet a real cluster would show.
 */
export async function pinTasksRunning(moto: MotoServer): Promise<void> {
  const res = await fetch(`${moto.endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000 } }),
  });
  if (!res.ok) throw new Error(`moto state manager refused the transition: ${await res.text()}`);
}
