import { Aspects, IAspect, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Dependable, IConstruct, IDependable } from 'constructs';

/**
 * Makes every ECS service of the cluster's stack that runs in `cluster` depend on the cluster's
 * capacity provider association, so CloudFormation creates the services after it and deletes them
 * before it. ECS refuses to disassociate a capacity provider a service still uses ("The specified
 * capacity provider is in use"), and aws-cdk-lib gives services no dependency on the association it
 * creates: without this, a stack delete can remove both at once and fail. Services in other stacks
 * are ordered by their stack's own dependency.
 */
export function deleteServicesBeforeCapacity(cluster: ecs.Cluster): void {
  Aspects.of(Stack.of(cluster)).add(new ServicesBeforeCapacity(cluster, capacityAssociationOf(cluster)));
}

/**
 * A dependable whose constructs are looked up only when CloudFormation dependencies are rendered,
 * after every aspect has run: for things created later (by an aspect, or on first use).
 */
export function lazyDependable(find: () => IConstruct[]): IDependable {
  const dependable: IDependable = {};
  Dependable.implement(dependable, {
    get dependencyRoots() {
      return find();
    },
  });
  return dependable;
}

/** The association aws-cdk-lib adds to a cluster (an aspect of the cluster creates it during synthesis). */
function capacityAssociationOf(cluster: ecs.Cluster): IDependable {
  return lazyDependable(() => cluster.node.children.filter((c) => c instanceof ecs.CfnClusterCapacityProviderAssociations));
}

class ServicesBeforeCapacity implements IAspect {
  constructor(private readonly cluster: ecs.Cluster, private readonly capacity: IDependable) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof ecs.CfnService)) return;
    const stack = Stack.of(this.cluster);
    if (Stack.of(node) !== stack) return;
    if (JSON.stringify(stack.resolve(node.cluster)) !== JSON.stringify(stack.resolve(this.cluster.clusterName))) return;
    node.node.addDependency(this.capacity);
  }
}
