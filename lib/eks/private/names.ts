import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { invalidProp } from '../../private/validation';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks that a namespace name is a DNS-1123 label (what the Kubernetes API accepts). */
export function requireNamespaceName(scope: IConstruct, prop: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length > 63 || !DNS1123_LABEL.test(name)) {
    invalidProp(scope, prop, name, 'is not a valid namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit)',
      'Rename the namespace, e.g. "ml-recommender".');
  }
}

export { pascalCase } from '../../private/naming';
