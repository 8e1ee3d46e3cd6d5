export * from './authorization';
export * from './panopticon';
export * from './pull-request-environment';
export * from './pull-request-environment-cleanup';
export * from './pull-request-ingress';
