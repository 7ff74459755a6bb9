import { type TargetPolicy, tableName, targetPolicy } from '../config/settings';

export interface ApiConfig {
  tableName: string;
  targets: TargetPolicy;
}

let config: ApiConfig | undefined;

/** The API functions' settings, read at the first invocation (not at import) and kept for the container. */
export function apiConfig(): ApiConfig {
  config ??= { tableName: tableName(), targets: targetPolicy() };
  return config;
}
