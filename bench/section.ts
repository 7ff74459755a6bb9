/**
 * One benchmark section in its own process (fresh heap and module state; the functions'
 * JSON log lines go to /dev/null instead of the table). Usage, via bench/sections.ts:
 * `section.ts <name> <options as JSON>`; the result comes back over IPC.
 */
const [name, optionsJson] = process.argv.slice(2);

async function run(): Promise<unknown> {
  const options: unknown = JSON.parse(optionsJson ?? '{}');
  switch (name) {
    case 'delivery': {
      const { runDeliveryBench } = await import('./delivery');
      return runDeliveryBench(options as Parameters<typeof runDeliveryBench>[0]);
    }
    case 'fanout': {
      const { runFanOutBench } = await import('./fanout');
      return runFanOutBench(options as Parameters<typeof runFanOutBench>[0]);
    }
    case 'cold-start': {
      const { runColdStartBench } = await import('./cold-start');
      return runColdStartBench(options as Parameters<typeof runColdStartBench>[0]);
    }
    case 'e2e': {
      const { runEndToEndBench } = await import('./e2e');
      return runEndToEndBench(options as Parameters<typeof runEndToEndBench>[0]);
    }
    default:
      throw new Error(`unknown bench section "${name}"`);
  }
}

run().then(
  (result) => {
    process.send?.({ type: 'result', result }, () => process.exit(0));
  },
  (error: unknown) => {
    process.send?.(
      { type: 'error', error: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      () => process.exit(1),
    );
  },
);
