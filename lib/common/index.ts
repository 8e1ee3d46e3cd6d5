export * from './function-placement';
export * from './stack-log-key';
export * from './control-tower';
