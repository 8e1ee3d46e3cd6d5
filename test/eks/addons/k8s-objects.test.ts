import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { deepMerge } from '../../../lib/eks/addons/private/merge';
import { ingressObject, networkPolicyObject, toManifest } from '../../../lib/eks/addons/private/k8s-objects';

describe('typed Kubernetes objects', () => {
  test('a valid NetworkPolicy comes back as plain JSON with apiVersion and kind', () => {
    // WHEN
    const obj = networkPolicyObject({ metadata: { name: 'default-deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });

    // THEN
    expect(obj).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny', namespace: 'shop' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    });
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
  });

  test('fails when a NetworkPolicy has a policy type the schema does not allow', () => {
    expect(() => networkPolicyObject({
      metadata: { name: 'bad', namespace: 'shop' },
      spec: { podSelector: {}, policyTypes: ['Inbound' as 'Ingress'] },
    })).toThrow(/NetworkPolicy shop\/bad fails schema validation: .*policyTypes\/0 must be equal to one of the allowed values/);
  });

  test('fails when a required field is missing', () => {
    // GIVEN an Ingress backend without the service port
    expect(() => ingressObject({
      metadata: { name: 'web', namespace: 'shop' },
      spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 'eighty' as unknown as number } } } }] } }] },
    })).toThrow(/Ingress shop\/web fails schema validation: .*port\/number must be integer/);
  });

  test('fails when a label value is not a string', () => {
    const model = new NetworkPolicy({ metadata: { name: 'x', labels: { tier: 1 as unknown as string } }, spec: { podSelector: {} } });
    expect(() => toManifest(model)).toThrow(/metadata\/labels\/tier must be string/);
  });
});

describe('deepMerge of chart values', () => {
  test('user values win, nested objects merge, arrays are replaced', () => {
    // WHEN
    const merged = deepMerge(
      { serviceAccount: { create: false, name: 'sa' }, args: ['a', 'b'], region: 'us-east-1' },
      { serviceAccount: { name: 'mine' }, args: ['c'], replicas: 3 },
    );

    // THEN
    expect(merged).toEqual({ serviceAccount: { create: false, name: 'mine' }, args: ['c'], region: 'us-east-1', replicas: 3 });
  });

  test('keys come out sorted, so the template does not depend on insertion order', () => {
    expect(Object.keys(deepMerge({ b: 1, a: { d: 1, c: 2 } }, undefined))).toEqual(['a', 'b']);
    expect(Object.keys(deepMerge({ b: 1, a: { d: 1, c: 2 } }, undefined).a as object)).toEqual(['c', 'd']);
  });
});
