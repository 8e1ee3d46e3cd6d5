export * from './versions';
export * from './endpoint-access';
export * from './node-group';
export * from './platform';
export * from './access';
export * from './vpc-cni';
export * from './addons';
export * from './pod-identity';
