// `npm start`: the whole LSP mesh on this machine. Ctrl-C stops everything.
import path from "node:path";
import { ancestorPids, watchAncestors } from "./ancestors.js";
import { MeshError } from "./processes.js";
import { REPO, startMesh } from "./mesh.js";
import { parseReplicas, type AppName } from "./ports.js";

const t0 = Date.now();
const say = (m: string) => console.log(`[lsp] ${m}`);
const otlp = process.env.LSP_OTLP_ENDPOINT; // e.g. http://localhost:4318 (gRPC twin on 4317)

try {
  const mesh = await startMesh({
    portBase: Number(process.env.LSP_PORT_BASE ?? 4000),
    name: process.env.LSP_RUN_NAME ?? "dev",
    demoData: true,
    ...(process.env.LSP_APPS ? { apps: process.env.LSP_APPS.split(",") as AppName[] } : {}),
    // e.g. LSP_REPLICAS=edge=2,dashboard=2,sales=2,ai=2: each replica with its own sidecar and ports.
    replicas: parseReplicas(process.env.LSP_REPLICAS),
    // A crashed process is restarted with back-off, as a kubelet would; each restart is one JSON
    // line here and in logs/supervisor.log.
    onRestart: (event) => console.log(JSON.stringify(event)),
    ...(otlp
      ? {
          otlpHttpEndpoint: otlp,
          otlpGrpcEndpoint: otlp.replace(/^https?:\/\//, "").replace(/:4318$/, ":4317"),
        }
      : {}),
    onProgress: say,
  });
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  say(
    `GraphQL edge: ${mesh.edgeUrl}  (tenant by subdomain, e.g. http://pho-bo-hanoi.localhost:${mesh.plan.base}/graphql, or the X-Tenant header)`,
  );
  // Every GraphQL call needs a bearer token: how to get one as Phở Bò's demo owner.
  const api = `localhost:${mesh.plan.base}/api/v1/auth`;
  const json = `-H 'x-tenant: pho-bo-hanoi' -H 'content-type: application/json'`;
  say("log in (demo owner of pho-bo-hanoi; the code is in the DEV ONLY SMS sink):");
  say(`  curl -s -X POST ${api}/otp/request ${json} -d '{"phone":"0912000001"}'`);
  say(`  curl -s '${mesh.devSinksUrl}/sms?to=%2B84912000001'`);
  say(`  curl -s -X POST ${api}/otp/verify ${json} -d '{"phone":"0912000001","code":"<code>"}'`);
  say(`  then send -H "authorization: Bearer <accessToken>" with every GraphQL call`);
  say("logs:");
  for (const [name, file] of Object.entries(mesh.logs))
    say(`  ${name.padEnd(22)} ${path.relative(REPO, file)}`);
  say("Ctrl-C to stop.");
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    say("stopping…");
    await mesh.stop();
    say("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGHUP", () => void shutdown());
  watchAncestors(ancestorPids(), () => {
    say("the command that started the mesh is gone;");
    void shutdown();
  });
} catch (err) {
  if (err instanceof MeshError || err instanceof RangeError) {
    console.error(`[lsp] ✗ ${err.message}`);
    process.exit(1);
  }
  throw err;
}
