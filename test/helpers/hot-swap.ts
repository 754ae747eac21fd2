// The hot-swap scenario (issue: reliability): clients keep querying the cross-extension
// query while supergraph swaps happen (new versions of a side extension are published);
// every response must be complete and exactly the expected one.
import { defineExtension, type RunningExtension } from '../../subgraphs/sdk/index.js';
import { CROSS_EXTENSION_QUERY, exampleUserToken, gatewayAuthOf, graphql, publish, startGraftWithExamples } from './index.js';

export interface HotSwapReport {
  durationMs: number;
  swaps: number;
  requests: number;
  failed: number;
  wrong: number;
  /** Requests running on the old snapshot at the instant of a swap (GraftGateway.requestsInFlightAtSwaps). */
  inFlightAtSwaps: number;
  firstProblem: string | undefined;
}

export async function runHotSwapScenario(options: { durationMs: number; swaps: number; concurrency: number }): Promise<HotSwapReport> {
  const graft = await startGraftWithExamples();
  const side: RunningExtension[] = [];
  try {
    const token = await exampleUserToken(graft.server);
    const expected = JSON.stringify((await graphql(graft.server, CROSS_EXTENSION_QUERY, { token })).body);
    if (expected.includes('"errors"')) throw new Error(`the baseline answer has errors: ${expected}`);

    const sdl = (n: number) =>
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\ntype Query { swapCounter: Int! ${Array.from({ length: n }, (_, i) => `field${i}: Int`).join(' ')} }`;
    const startSide = async (n: number) => {
      const running = await defineExtension({ name: 'swapper', typeDefs: sdl(n), resolvers: { Query: { swapCounter: () => n } } }).listen({ auth: gatewayAuthOf(graft.server) });
      side.push(running);
      return running;
    };

    let requests = 0;
    let failed = 0;
    let wrong = 0;
    let firstProblem: string | undefined;
    // Clients run for at least durationMs and until the last swap is served, so every swap
    // happens under traffic however slow the machine is (a fixed deadline could end the
    // traffic before a slow publish swaps).
    const deadline = Date.now() + options.durationMs;
    let swapsDone = false;
    const client = async () => {
      while (!swapsDone || Date.now() < deadline) {
        requests += 1;
        try {
          const { status, body } = await graphql(graft.server, CROSS_EXTENSION_QUERY, { token });
          if (status !== 200) {
            failed += 1;
            firstProblem ??= `HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}`;
          } else if (JSON.stringify(body) !== expected) {
            wrong += 1;
            firstProblem ??= `wrong body: ${JSON.stringify(body).slice(0, 300)}`;
          }
        } catch (error) {
          failed += 1;
          firstProblem ??= String(error);
        }
      }
    };
    const swapper = async () => {
      const interval = options.durationMs / (options.swaps + 1);
      for (let i = 1; i <= options.swaps; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, interval));
        const running = await startSide(i);
        const result = await publish(graft.server, graft.admin, {
          manifest: { name: 'swapper', version: `1.${i}.0`, owner: 'bench', subgraph: { url: running.url, schema: 'swapper.graphql' } },
          sdl: sdl(i),
        });
        if (result.status !== 201) throw new Error(`swap ${i} failed: ${JSON.stringify(result.body)}`);
      }
    };
    const started = Date.now();
    const swapping = swapper().finally(() => {
      swapsDone = true;
    });
    await Promise.all([swapping, ...Array.from({ length: options.concurrency }, client)]);
    return {
      durationMs: Date.now() - started,
      swaps: options.swaps,
      requests,
      failed,
      wrong,
      inFlightAtSwaps: graft.server.gateway.requestsInFlightAtSwaps,
      firstProblem,
    };
  } finally {
    await graft.close();
    await Promise.all(side.map((s) => s.close()));
  }
}
