import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import { AppError } from "./errors.js";
import { libraryLogger } from "./log-adapters.js";
import type { Logger } from "./logger.js";

export interface SidecarPorts {
  DAPR_HTTP_PORT: number;
  DAPR_GRPC_PORT: number;
}

/** The Dapr SDK client, over gRPC to the local sidecar; its own logs become our JSON lines. */
export function createDaprClient(ports: SidecarPorts, log?: Logger): DaprClient {
  return new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(ports.DAPR_GRPC_PORT),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    ...(log ? { logger: { level: LogLevel.Warn, service: libraryLogger(log, "dapr-sdk") } } : {}),
  });
}

/** True when the sidecar's components are loaded (its outbound readiness; it does not wait for us). */
export async function sidecarReady(ports: SidecarPorts): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${ports.DAPR_HTTP_PORT}/v1.0/healthz/outbound`, {
      signal: AbortSignal.timeout(1000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Dapr service invocation over the sidecar's HTTP API. We use HTTP here (not the SDK's gRPC
 * transport) because the OTel HTTP/undici instrumentation then propagates `traceparent` to the
 * callee; the SDK's gRPC client has no per-call metadata hook (see research/dapr.md §6).
 */
export async function invokeService(
  ports: SidecarPorts,
  appId: string,
  method: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Response> {
  const url = `http://127.0.0.1:${ports.DAPR_HTTP_PORT}/v1.0/invoke/${encodeURIComponent(appId)}/method/${method.replace(/^\//, "")}`;
  try {
    return await fetch(url, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { "content-type": "application/json", ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(init.timeoutMs ?? 5000),
    });
  } catch (err) {
    throw new AppError("UNAVAILABLE", `${appId} is unreachable`, { cause: String(err) });
  }
}
