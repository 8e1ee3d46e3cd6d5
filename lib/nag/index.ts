export * from './eks-v2-checks';
