/**
 * Upgrade safety: the logical id of every stateful resource of every example is named here, so a
 * renamed construct id (which makes CloudFormation replace the resource) fails with a message that
 * says what it would replace — a snapshot that `jest -u` regenerates would not stop it. Each
 * resource's DeletionPolicy is checked against the policy chosen for its type (and why), which is
 * also what survives `cdk destroy` (docs/design.md).
 *
 * After an intended change, refresh the list with
 *   UPDATE_STATEFUL_RESOURCES=1 npx jest test/examples/stateful-resources.test.ts
 * and let the reviewer read the diff of stateful-resources.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';
import { testApp } from '../support/app';

interface TypePolicy {
  /** DeletionPolicy every resource of the type must have in the platform stacks. */
  readonly deletionPolicy: string;
  /** Why: what is lost or kept when the stack is deleted. */
  readonly why: string;
}

interface StatefulList {
  readonly types: { [type: string]: TypePolicy };
  /** Stacks whose whole content is disposable (per-PR environments): every type is deleted with them. */
  readonly disposableStacks: { [stack: string]: string };
  readonly stacks: { [stack: string]: { [logicalId: string]: string } };
}

const listFile = path.join(__dirname, 'stateful-resources.json');
const list: StatefulList = JSON.parse(fs.readFileSync(listFile, 'utf-8'));
const app = testApp();
addExampleStacks(app);
const stacks = app.node.children.filter((c): c is Stack => Stack.isStack(c));
const found: { [stack: string]: { [logicalId: string]: { type: string; deletionPolicy: string } } } = {};
for (const stack of stacks) {
  found[stack.stackName] = {};
  for (const [logicalId, resource] of Object.entries<{ Type: string; DeletionPolicy?: string }>(Template.fromStack(stack).toJSON().Resources)) {
    if (list.types[resource.Type]) {
      found[stack.stackName][logicalId] = { type: resource.Type, deletionPolicy: resource.DeletionPolicy ?? 'Delete' };
    }
  }
}

if (process.env.UPDATE_STATEFUL_RESOURCES) {
  const stacksOut: StatefulList['stacks'] = {};
  for (const [stack, resources] of Object.entries(found).sort(([a], [b]) => a.localeCompare(b))) {
    stacksOut[stack] = Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b)).map(([id, r]) => [id, r.type]));
  }
  fs.writeFileSync(listFile, `${JSON.stringify({ ...list, stacks: stacksOut }, null, 2)}\n`);
}

describe('stateful resources of the examples', () => {
  test('every example stack is listed', () => {
    expect(Object.keys(found).sort()).toEqual(Object.keys(list.stacks).sort());
  });

  describe.each(Object.keys(list.stacks))('%s', (stackName) => {
    test('keeps the logical id of every listed stateful resource', () => {
      const replaced = Object.entries(list.stacks[stackName])
        .filter(([id, type]) => found[stackName]?.[id]?.type !== type)
        .map(([id, type]) => `this replaces ${type} ${id} (its logical id is gone: a construct id was renamed or the resource removed)`);
      expect(replaced).toEqual([]);
    });

    test('lists every stateful resource it creates', () => {
      const unlisted = Object.entries(found[stackName] ?? {})
        .filter(([id]) => list.stacks[stackName][id] === undefined)
        .map(([id, r]) => `new ${r.type} ${id}: add it to stateful-resources.json (a rename of an existing one would replace it)`);
      expect(unlisted).toEqual([]);
    });

    test('gives each stateful resource the deletion policy chosen for its type', () => {
      const disposable = list.disposableStacks[stackName] !== undefined;
      const wrong = Object.entries(found[stackName] ?? {})
        .filter(([, r]) => r.deletionPolicy !== (disposable ? 'Delete' : list.types[r.type].deletionPolicy))
        .map(([id, r]) => `${r.type} ${id} has DeletionPolicy ${r.deletionPolicy}, expected ${disposable ? 'Delete (disposable stack)' : list.types[r.type].deletionPolicy}`);
      expect(wrong).toEqual([]);
    });
  });

  test('every tracked type says why it is kept or deleted', () => {
    for (const [type, policy] of Object.entries(list.types)) {
      expect([type, ['Retain', 'Delete', 'Snapshot', 'RetainExceptOnCreate'].includes(policy.deletionPolicy)]).toEqual([type, true]);
      expect([type, policy.why.length >= 30]).toEqual([type, true]);
    }
  });
});
