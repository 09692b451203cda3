export * from './pricing';
export * from './split';
export * from './status';
