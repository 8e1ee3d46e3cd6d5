export * from './network-policy';
export * from './load-balancer-controller';
export * from './external-dns';
export * from './container-logging';
export * from './karpenter';
export * from './keda';
