export * from './api-keys';
export * from './authorizer';
export * from './credentials';
export * from './jwt';
export * from './policy';
