/**
 * Every size and count limit of the service, in one place: the API handlers, the
 * delivery pipeline, the docs and the tests read them from here.
 */
export const LIMITS = {
  /** Largest request body the API accepts (bytes); larger is a 413. */
  maxRequestBodyBytes: 16 * 1024,
  /** Longest `target` URL (characters). */
  maxTargetLength: 2048,
  /** `?limit` on list routes. */
  listDefaultLimit: 100,
  listMaxLimit: 1000,
  /** Tiledesk's `/history` page size and the deepest page served. */
  historyPageSize: 40,
  historyMaxPage: 25,
  /** Per-subscription deliveries route. */
  deliveriesDefaultLimit: 50,
  deliveriesMaxLimit: 200,
  /** Bytes of a receiver's response body that are read and kept in the log. */
  maxLoggedResponseBytes: 1024,
  /** Bytes of a response body that are read at all before the socket is dropped. */
  maxReadResponseBytes: 64 * 1024,
  /** SQS SendMessageBatch: entries and total payload bytes per call. */
  sqsBatchEntries: 10,
  sqsBatchBytes: 1024 * 1024 - 16 * 1024,
  /** SQS's longest visibility timeout (12 h): the cap of any scheduled retry delay. */
  maxVisibilityTimeoutSeconds: 12 * 60 * 60,
  /** Concurrent SendMessageBatch calls of one fan-out invocation. */
  fanOutSendConcurrency: 8,
  /** `recover` re-queues at most this many failed deliveries per call. */
  maxRecoverDeliveries: 1000,
  /** Event names: longest accepted (characters). */
  maxEventNameLength: 200,
} as const;
