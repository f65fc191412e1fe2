// What one sidecar call costs the calling app: @lsp/dapr's sidecarFetch (undici's request API,
// one pool per sidecar) against the global `fetch` it replaced, both against a stand-in sidecar
// in a child process (a small JSON answer with an ETag, like a state read), so that the CPU
// measured here is the client's alone. Rounds alternate the two clients; each prints CPU ms per
// call (user + system of this process) and calls per second, at BENCH_CONCURRENCY (8) in flight.
//   npx tsx bench/sidecar-client.ts [calls per round, default 4000] [rounds, default 3]
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sidecarFetch } from "@lsp/dapr";

if (process.argv[2] === "--stand-in") {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.setHeader("etag", '"3"');
      res.end('{"version":3,"orders":12,"netRevenueVnd":1234500,"hours":[1,2,3]}');
    });
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.(typeof address === "object" && address ? address.port : 0);
  });
} else {
  const calls = Number(process.argv[2] ?? 4000);
  const rounds = Number(process.argv[3] ?? 3);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
  const child = fork(fileURLToPath(import.meta.url), ["--stand-in"], { execArgv: ["--import", "tsx"] });
  const port = await new Promise<number>((resolve) => child.once("message", (p) => resolve(Number(p))));
  const ports = { DAPR_HTTP_PORT: port, DAPR_GRPC_PORT: 1, DAPR_API_TOKEN: "t".repeat(32) };
  const clients: Record<string, () => Promise<unknown>> = {
    "global fetch (before)": async () => {
      const res = await fetch(`http://127.0.0.1:${port}/v1.0/state/cache/k`, {
        headers: { "content-type": "application/json", "dapr-api-token": ports.DAPR_API_TOKEN },
        signal: AbortSignal.timeout(5000),
      });
      return res.json();
    },
    "sidecarFetch (undici request)": async () => (await sidecarFetch(ports, "state/cache/k")).json(),
  };
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [name, call] of Object.entries(clients)) {
        for (let i = 0; i < 300; i++) await call(); // warm-up: JIT and connections
        let started = 0;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            while (started++ < calls) await call();
          }),
        );
        const cpu = process.cpuUsage(cpu0);
        const seconds = (performance.now() - t0) / 1000;
        console.log(
          `round ${round}  ${name.padEnd(30)} ${((cpu.user + cpu.system) / 1000 / calls).toFixed(3)} ms CPU per call  ${(calls / seconds).toFixed(0)} calls/s`,
        );
      }
    }
  } finally {
    child.kill();
  }
  process.exit(0);
}
