import { Aspects, IAspect, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** A wildcard this library accepts on purpose, and why. */
export interface WildcardReason {
  /** Matches the finding text cdk-nag prints inside `AwsSolutions-IAM5[...]`. */
  readonly finding: RegExp;
  /** When set, every action of the statement must match it, so an unrelated grant is still reported. */
  readonly actions?: RegExp;
  readonly reason: string;
}

/**
 * Acknowledges, on the policies under `scope`, exactly the AwsSolutions-IAM5 findings that match
 * one of `reasons`; any other wildcard is still reported. cdk-nag names a finding by its text
 * only (`Resource::*`), so once acknowledged on a policy, a later statement with the very same
 * wildcard text in that policy is covered too. It runs now, for nag packs that inspect
 * the tree without synthesizing it (the gate does), and again as an aspect at synth, for
 * statements aws-cdk-lib adds later. Call it once the construct has added its own statements.
 */
export function acknowledgeWildcards(scope: IConstruct, reasons: WildcardReason[]): void {
  const acknowledger = new WildcardAcknowledger(reasons);
  for (const node of scope.node.findAll()) acknowledger.visit(node);
  Aspects.of(scope).add(acknowledger);
}

class WildcardAcknowledger implements IAspect {
  private readonly done = new Map<IConstruct, Set<string>>();

  constructor(private readonly reasons: WildcardReason[]) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Array<{ Effect: string; Action: unknown; Resource: unknown }> };
    for (const statement of document.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      const findings = [
        ...asArray(statement.Action).filter((a): a is string => typeof a === 'string' && a.includes('*')).map((a) => `Action::${a}`),
        ...asArray(statement.Resource).map(findingText).filter((r) => r.includes('*')).map((r) => `Resource::${r}`),
      ];
      const actions = asArray(statement.Action).map(String);
      for (const finding of findings) {
        const match = this.reasons.find((r) => r.finding.test(finding) && (!r.actions || actions.every((a) => r.actions!.test(a))));
        if (!match) continue;
        const id = `AwsSolutions-IAM5[${finding}]`;
        const done = this.done.get(node) ?? new Set<string>();
        if (done.has(id)) continue;
        Validations.of(node).acknowledge({ id, reason: match.reason });
        done.add(id);
        this.done.set(node, done);
      }
    }
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Renders an intrinsic the way cdk-nag names it in a finding (`<Logical.Arn>`, `<Ref>`). */
export function findingText(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(findingText).join(delimiter);
    }
    if (o['Fn::Sub'] !== undefined) return findingText(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${findingText(resource)}.${findingText(attribute)}>`;
    }
    if (o['Fn::ImportValue'] !== undefined) return findingText(o['Fn::ImportValue']);
    if (o.Ref !== undefined) return `<${findingText(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
