import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { IConstruct } from 'constructs';
import { CapacityCluster } from '../../../lib';
import { testStack } from '../../support/app';

/** A stack with one EC2 capacity cluster in a small VPC: what every ECS construct needs. */
export function clusterStack(): { stack: Stack; capacity: CapacityCluster } {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const capacity = new CapacityCluster(stack, 'Capacity', { vpc });
  return { stack, capacity };
}

/** An imported cluster in an imported VPC: cheap to build, for tests that only exercise validation. */
export function importedCluster(): { stack: Stack; cluster: ecs.ICluster } {
  const stack = testStack();
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f67890',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0a1b2c3d4e5f67891'],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f67890', 'rtb-0a1b2c3d4e5f67891'],
  });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'test', vpc, securityGroups: [] });
  return { stack, cluster };
}

/** The Control Tower rules acknowledged on exactly this construct: rule name → reason (with its `[exempt]` / `[option x]` kind). */
export function acknowledgedControls(construct: IConstruct): Record<string, string> {
  const controls: Record<string, string> = {};
  for (const entry of construct.node.metadata) {
    if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
      if (id.startsWith(CFN_GUARD_PREFIX)) controls[id.slice(CFN_GUARD_PREFIX.length)] = reason;
    }
  }
  return controls;
}
const CFN_GUARD_PREFIX = 'cdk-validator-cfnguard::';
