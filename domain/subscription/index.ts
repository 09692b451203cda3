export * from './types';
export * from './clock';
export * from './billing';
export * from './pauses';
export * from './status';
export * from './pricing';
