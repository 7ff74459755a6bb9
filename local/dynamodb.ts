import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createTableInput } from '../functions/core/storage/table';
import { localCredentials } from './credentials';

/**
 * DynamoDB for the local stack: dynalite in this process, with the table created from
 * the same definition as the CDK stack's. With `dataDir` the data persists in LevelDB
 * files there; otherwise it lives in memory and is gone at stop.
 */
export interface LocalDynamoDb {
  endpoint: string;
  port: number;
  tableName: string;
  /** A client on this endpoint, for the stack's own setup (keys). */
  client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface LocalDynamoDbOptions {
  port: number;
  tableName: string;
  region: string;
  dataDir?: string | undefined;
}

export async function startDynamoDb(options: LocalDynamoDbOptions): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: options.region, credentials: localCredentials });
  try {
    await ensureTable(client, options.tableName);
  } catch (error) {
    client.destroy();
    await closeServer(server);
    throw error;
  }
  return {
    endpoint,
    port,
    tableName: options.tableName,
    client,
    async stop() {
      client.destroy();
      await closeServer(server);
    },
  };
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
}

/** dynalite's close waits for pending LevelDB writes, so persisted data is complete. */
function closeServer(server: ReturnType<typeof dynalite>): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
