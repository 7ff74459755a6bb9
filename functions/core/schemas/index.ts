/** Every input schema of the API, for the handlers and the OpenAPI generator. */
export { cursorSchema, decodeCursor, encodeCursor, LOG_SORT_KEY, SUBSCRIPTION_SORT_KEY } from './cursor';
export { eventSchema, UNKNOWN_EVENT_MESSAGE } from './event';
export { fieldErrors, parseInput } from './parse';
export * from './requests';
export { targetProblem, targetSchema } from './target';
