export * from './delivery';
export * from './payload';
export * from './signing';
export * from './url-policy';
