export { parseJsonBody } from './body';
export * from './errors';
export { type ApiHandler, httpHandler } from './handler';
export { authorizedPath, type Caller, callerOf, header, requireProject } from './request';
export { GATEWAY_RESPONSES, jsonResponse, WWW_AUTHENTICATE } from './responses';
