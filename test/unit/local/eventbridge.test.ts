import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type BusEvent,
  type DeadLetter,
  type LocalEventBridge,
  startEventBridge,
} from '../../../local/eventbridge';

/** The local PutEvents endpoint, called by an unmodified EventBridgeClient. */
const BUS = 'test-bus';
let bridge: LocalEventBridge;
let client: EventBridgeClient;
let delivered: BusEvent[];
let deadLetters: DeadLetter[];
let failuresLeft: number;

const entry = (overrides: Record<string, unknown> = {}) => ({
  EventBusName: BUS,
  Source: 'tiledesk',
  DetailType: 'request.create',
  Detail: JSON.stringify({ id_project: 'p', payload: { a: 1 } }),
  ...overrides,
});

beforeAll(async () => {
  bridge = await startEventBridge({
    port: 0,
    region: 'eu-west-1',
    busName: BUS,
    ruleSource: 'tiledesk',
    retryDelaysMs: [0, 0],
    target: async (event) => {
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('fan-out failed');
      }
      delivered.push(event);
    },
    deadLetter: async (letter) => {
      deadLetters.push(letter);
    },
  });
  client = new EventBridgeClient({
    endpoint: bridge.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client.destroy();
  await bridge.stop();
});

beforeEach(() => {
  delivered = [];
  deadLetters = [];
  failuresLeft = 0;
});

describe('local EventBridge PutEvents', () => {
  it('returns an EventId and invokes the target with the EventBridge envelope', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [entry({ Resources: ['r1'] })] }));
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId;
    expect(delivered).toEqual([
      {
        version: '0',
        id: eventId,
        'detail-type': 'request.create',
        source: 'tiledesk',
        account: '000000000000',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: 'eu-west-1',
        resources: ['r1'],
        detail: { id_project: 'p', payload: { a: 1 } },
      },
    ]);
  });

  it('accepts the bus by ARN', async () => {
    const result = await client.send(
      new PutEventsCommand({ Entries: [entry({ EventBusName: bridge.busArn })] }),
    );

    expect(result.FailedEntryCount).toBe(0);
  });

  it('answers per-entry errors as AWS does, and invokes the target only for the good entries', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry(),
          entry({ Source: undefined }),
          entry({ DetailType: undefined }),
          entry({ Detail: undefined }),
          entry({ Detail: '[1,2]' }),
          entry({ EventBusName: 'nope' }),
          entry({ EventBusName: undefined }),
        ],
      }),
    );
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(6);
    expect(result.Entries?.slice(1)).toEqual([
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
      },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
      },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus nope does not exist.' },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus default does not exist.' },
    ]);
    expect(delivered).toHaveLength(1);
  });

  it('refuses more than 10 entries with a ValidationException', async () => {
    const send = client.send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }));

    await expect(send).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses entries over 256 KB with a ValidationException', async () => {
    const big = JSON.stringify({ id_project: 'p', payload: 'x'.repeat(256 * 1024) });
    const send = client.send(new PutEventsCommand({ Entries: [entry({ Detail: big })] }));

    await expect(send).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('does not invoke the target for another source (the rule does not match)', async () => {
    const result = await client.send(new PutEventsCommand({ Entries: [entry({ Source: 'webhooks' })] }));
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(0);
    expect(delivered).toEqual([]);
  });

  it('retries a failing target and then dead-letters the event with the error', async () => {
    failuresLeft = 5;

    const result = await client.send(new PutEventsCommand({ Entries: [entry()] }));
    await bridge.idle();

    expect(delivered).toEqual([]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.attempts).toBe(3);
    expect(deadLetters[0]?.event.id).toBe(result.Entries?.[0]?.EventId);
    expect(String(deadLetters[0]?.error)).toContain('fan-out failed');
  });

  it('delivers when a retry succeeds', async () => {
    failuresLeft = 1;

    await client.send(new PutEventsCommand({ Entries: [entry()] }));
    await bridge.idle();

    expect(delivered).toHaveLength(1);
    expect(deadLetters).toEqual([]);
  });
});
