/**
 * Least privilege: every IAM statement of the examples that keeps a wildcard — an action containing
 * `*` or a `Resource` of exactly `*` — is listed in iam-wildcards.json with the reason AWS (or
 * aws-cdk-lib) allows nothing narrower. A new wildcard fails until it is scoped or listed; a listed
 * one that is gone or changed fails as stale. docs/compliance.md shows the same list ("IAM wildcards").
 *
 * After an intended change, rewrite the list and the docs section with
 *   UPDATE_IAM_WILDCARDS=1 npx jest test/examples/iam-wildcards.test.ts
 * (existing reasons are kept; a new entry gets the reason TODO, which fails until it is written).
 * Print statements total / wildcard per template with IAM_WILDCARDS_REPORT=1.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addExampleStacks } from '../../examples';
import { findingText } from '../../lib/private/nag';
import { testApp } from '../support/app';

interface ListedWildcard {
  readonly template: string;
  /** Policy construct path and the statement's sorted actions: `<path> <action,action>`. */
  readonly key: string;
  /** The statement's resources as cdk-nag names them (`<LogicalId.Arn>`), to spot a changed statement. */
  readonly resources: string[];
  /** The statement's condition keys (`Operator:key`), which often are what scopes a `Resource: "*"`. */
  readonly conditions: string[];
  readonly reason: string;
}

interface FoundWildcard {
  readonly template: string;
  readonly key: string;
  readonly resources: string[];
  readonly conditions: string[];
}

interface Statement {
  readonly Effect: string;
  readonly Action?: unknown;
  readonly Resource?: unknown;
  readonly Condition?: { [operator: string]: { [key: string]: unknown } };
}

const TODO = 'TODO';
const listFile = path.join(__dirname, 'iam-wildcards.json');
const docsFile = path.join(__dirname, '..', '..', 'docs', 'compliance.md');
const DOCS_HEADING = '## IAM wildcards';

const app = testApp();
addExampleStacks(app);
const stacks = app.node.children.filter((c): c is Stack => Stack.isStack(c));

/**
 * Per template: statements, wildcard statements, those of them a condition narrows, and the actions
 * allowed on `Resource: "*"` with no condition at all (what scoping a statement shrinks).
 */
const totals: { [template: string]: { statements: number; wildcards: number; conditioned: number; openActions: number } } = {};
const found: FoundWildcard[] = [];
for (const stack of stacks) {
  const resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> = Template.fromStack(stack).toJSON().Resources ?? {};
  const pathOf = constructPaths(stack);
  const count = totals[stack.stackName] = { statements: 0, wildcards: 0, conditioned: 0, openActions: 0 };
  for (const [logicalId, resource] of Object.entries(resources)) {
    for (const { name, document } of policyDocumentsOf(resource)) {
      for (const statement of asArray((document as { Statement?: unknown }).Statement) as Statement[]) {
        count.statements++;
        if (!isWildcard(statement)) continue;
        count.wildcards++;
        const conditions = Object.entries(statement.Condition ?? {}).flatMap(([operator, keys]) => Object.keys(keys).map((k) => `${operator}:${k}`)).sort();
        if (conditions.length > 0) count.conditioned++;
        else if (asArray(statement.Resource).includes('*')) count.openActions += asArray(statement.Action).length;
        const policy = `${pathOf[logicalId] ?? logicalId}${name ? `#${name}` : ''}`;
        const actions = asArray(statement.Action).map(String).sort();
        found.push({
          template: stack.stackName,
          key: `${policy} ${actions.join(',')}`,
          resources: asArray(statement.Resource).map(findingText).sort(),
          conditions,
        });
      }
    }
  }
}

const listed: ListedWildcard[] = JSON.parse(fs.readFileSync(listFile, 'utf-8')).wildcards;
const idOf = (w: { template: string; key: string }) => `${w.template} ${w.key}`;

if (process.env.UPDATE_IAM_WILDCARDS) {
  const reasons = new Map(listed.map((w) => [idOf(w), w.reason]));
  const merged = dedupe(found).map((w): ListedWildcard => ({ ...w, reason: reasons.get(idOf(w)) ?? TODO }));
  merged.sort((a, b) => idOf(a).localeCompare(idOf(b)));
  fs.writeFileSync(listFile, `${JSON.stringify({ wildcards: merged }, null, 2)}\n`);
  listed.splice(0, listed.length, ...merged);
  const docs = fs.readFileSync(docsFile, 'utf-8');
  fs.writeFileSync(docsFile, withDocsSection(docs, renderDocsSection(merged)));
}

if (process.env.IAM_WILDCARDS_REPORT) {
  const rows = Object.entries(totals).map(([template, c]) => [template.padEnd(24), ...[c.statements, c.wildcards, c.conditioned, c.openActions].map((n) => String(n).padStart(14))].join(''));
  const header = ['statements', 'wildcard', 'conditioned', 'open actions'].map((h) => h.padStart(14)).join('');
  console.log([`${'template'.padEnd(24)}${header}`, ...rows].join('\n'));
}

describe('IAM wildcards of the examples', () => {
  test('every wildcard statement is listed with a reason', () => {
    const known = new Set(listed.map(idOf));
    const unlisted = dedupe(found)
      .filter((w) => !known.has(idOf(w)))
      .map((w) => `new wildcard in ${w.template}: ${w.key} on ${w.resources.join(', ')} — scope it (see the Service Authorization Reference), `
        + 'or run UPDATE_IAM_WILDCARDS=1 npx jest test/examples/iam-wildcards.test.ts and write its reason in iam-wildcards.json');
    expect(unlisted).toEqual([]);
  });

  test('every listed wildcard still exists unchanged', () => {
    const current = new Map(dedupe(found).map((w) => [idOf(w), w]));
    const stale = listed
      .filter((w) => JSON.stringify(scopeOf(current.get(idOf(w)))) !== JSON.stringify(scopeOf(w)))
      .map((w) => current.has(idOf(w))
        ? `${w.template}: ${w.key} is now ${JSON.stringify(scopeOf(current.get(idOf(w))))} (listed: ${JSON.stringify(scopeOf(w))}) — check the reason still holds, then rewrite the list`
        : `${w.template}: ${w.key} no longer exists — remove it (UPDATE_IAM_WILDCARDS=1 rewrites the list)`);
    expect(stale).toEqual([]);
  });

  test('every listed wildcard says why it cannot be narrower', () => {
    const unexplained = listed.filter((w) => w.reason === TODO || w.reason.length < 30).map(idOf);
    expect(unexplained).toEqual([]);
  });

  test('docs/compliance.md ends with the current list (UPDATE_IAM_WILDCARDS=1 rewrites it)', () => {
    const docs = fs.readFileSync(docsFile, 'utf-8');
    const start = docs.indexOf(`\n${DOCS_HEADING}\n`);
    expect(start >= 0 ? docs.slice(start + 1) : `no "${DOCS_HEADING}" section`).toEqual(renderDocsSection(listed));
  });
});

/** The policy documents a resource carries: a (managed) policy's own, or a role's inline ones. */
function policyDocumentsOf(resource: { Type: string; Properties?: Record<string, unknown> }): Array<{ name?: string; document: unknown }> {
  const properties = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
      return [{ document: properties.PolicyDocument }];
    case 'AWS::IAM::Role':
      return (asArray(properties.Policies) as Array<{ PolicyName: unknown; PolicyDocument: unknown }>)
        .filter((p) => p !== undefined)
        .map((p) => ({ name: findingText(p.PolicyName), document: p.PolicyDocument }));
    default:
      return [];
  }
}

function isWildcard(statement: Statement): boolean {
  return asArray(statement.Action).some((a) => typeof a === 'string' && a.includes('*'))
    || asArray(statement.Resource).some((r) => r === '*');
}

/** Logical id → construct path (without the trailing `/Resource` of L1s), from the tree, not from metadata. */
function constructPaths(stack: Stack): { [logicalId: string]: string } {
  const paths: { [logicalId: string]: string } = {};
  for (const node of stack.node.findAll()) {
    if (node instanceof CfnResource && Stack.of(node) === stack) {
      paths[stack.resolve(node.logicalId) as string] = node.node.path.replace(/\/Resource$/, '');
    }
  }
  return paths;
}

function scopeOf(w: FoundWildcard | undefined): unknown {
  return w && { resources: w.resources, conditions: w.conditions };
}

/** Statements with the same key in one policy (same actions, other resources) count as one entry. */
function dedupe(wildcards: FoundWildcard[]): FoundWildcard[] {
  const byId = new Map<string, FoundWildcard>();
  for (const w of wildcards) {
    const seen = byId.get(idOf(w));
    byId.set(idOf(w), seen ? {
      ...seen,
      resources: [...new Set([...seen.resources, ...w.resources])].sort(),
      conditions: [...new Set([...seen.conditions, ...w.conditions])].sort(),
    } : w);
  }
  return [...byId.values()];
}

function renderDocsSection(wildcards: ListedWildcard[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = wildcards.map((w) => {
    const space = w.key.indexOf(' ');
    const policy = w.key.slice(0, space).replace(`${w.template}/`, '');
    const actions = w.key.slice(space + 1).split(',').map((a) => `\`${a}\``).join(' ');
    const resources = w.resources.map((r) => `\`${r}\``).join(' ');
    const conditions = w.conditions.map((c) => `\`${c}\``).join(' ');
    return `| ${w.template} | ${cell(policy)} | ${cell(actions)} | ${cell(resources)} | ${cell(conditions)} | ${cell(w.reason)} |`;
  });
  return [
    DOCS_HEADING,
    '',
    'Every IAM statement of the examples that keeps a wildcard action or `Resource: "*"`, and why nothing',
    'narrower is possible. Generated from test/examples/iam-wildcards.json by test/examples/iam-wildcards.test.ts,',
    'which fails when a wildcard appears that is not listed here (rewrite with',
    '`UPDATE_IAM_WILDCARDS=1 npx jest test/examples/iam-wildcards.test.ts`). It covers the statements of',
    'AWS::IAM::Policy, AWS::IAM::ManagedPolicy and inline role policies; AWS managed policies attached by ARN',
    '(AmazonEKSWorkerNodePolicy, AWSLambdaBasicExecutionRole of aws-cdk-lib\'s providers...) are not counted here —',
    'their reasons are the cdk-nag AwsSolutions-IAM4 acknowledgements.',
    '',
    '| template | policy | actions | resources | conditions | reason |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** Replaces the section from its heading to the end of the file (it is the last one), or appends it. */
function withDocsSection(docs: string, section: string): string {
  const start = docs.indexOf(`\n${DOCS_HEADING}\n`);
  const before = start >= 0 ? docs.slice(0, start + 1) : `${docs.replace(/\n*$/, '\n')}\n`;
  return before + section;
}

function asArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
