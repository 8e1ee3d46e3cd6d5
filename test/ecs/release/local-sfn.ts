import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { IConstruct } from 'constructs';

/* eslint-disable @typescript-eslint/no-explicit-any */

// aws-local-stepfunctions 3.0.0 calls Promise.withResolvers (Node 22+) for every Task state; Node 20 lacks it.
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

/** Renders a CloudFormation value whose only intrinsics are Fn::Join, Ref and Fn::GetAtt into a string. */
function render(value: any): string {
  if (typeof value === 'string') return value;
  if (value && Array.isArray(value['Fn::Join'])) {
    const [sep, parts] = value['Fn::Join'];
    return (parts as any[]).map(render).join(sep);
  }
  if (value && typeof value.Ref === 'string') return value.Ref === 'AWS::Partition' ? 'aws' : `ref-${value.Ref}`;
  if (value && Array.isArray(value['Fn::GetAtt'])) return `getatt-${value['Fn::GetAtt'].join('.')}`;
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

const templates = new WeakMap<Stack, any>();

/** The ASL definition of a state machine construct in a stack (synthesized once per stack: finish the stack first). */
export function aslOf(stack: Stack, stateMachine: IConstruct): any {
  if (!templates.has(stack)) templates.set(stack, Template.fromStack(stack).toJSON());
  const logicalId = stack.getLogicalId(stateMachine.node.defaultChild as any);
  const resource = templates.get(stack).Resources[logicalId];
  if (!resource || resource.Type !== 'AWS::StepFunctions::StateMachine') throw new Error(`${logicalId} is not a state machine`);
  return JSON.parse(render(resource.Properties.DefinitionString));
}

export interface Run {
  /** Output of a successful execution. */
  readonly output?: any;
  /** Error name and cause of a failed execution. */
  readonly error?: { readonly name: string; readonly cause: string };
  /** Names of the states entered, in order. */
  readonly entered: string[];
}

export type Handlers = Record<string, (input: any) => any>;

/** An Error named like a Step Functions error (Retry/Catch match on the name). */
export function stepError(name: string, cause: string): Error {
  const e = new Error(cause);
  e.name = name;
  return e;
}

/** Runs a definition locally; every Task state must have a handler; every Wait and Retry pause is 0. */
export async function runLocally(definition: any, input: any, handlers: Handlers, executionId = 'arn:aws:states:us-east-1:123456789012:execution:local:test'): Promise<Run> {
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Wait') waits[name] = 0;
      if (state.Retry) retries[name] = 0;
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Iterator) visit(state.Iterator.States);
      for (const b of state.Branches ?? []) visit(b.States);
    }
  };
  visit(definition.States);
  const machine = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: false } });
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: {
      Execution: { Id: executionId, Input: input, StartTime: '2026-01-01T00:00:00Z' },
      StateMachine: { Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:local' },
    },
  });
  const entered: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') entered.push((event as any).state.name);
    }
  })();
  try {
    const output = await execution.result;
    await collect;
    return { output, entered };
  } catch (err) {
    await collect.catch(() => undefined);
    const cause = (err as any).cause ?? err;
    return { error: { name: cause.name, cause: cause.message }, entered };
  }
}
