import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";

/** The client `createDaprClient` makes (its type, for the apps: they do not import the SDK). */
export type { DaprClient };
import { AppError, libraryLogger, type Logger } from "@lsp/runtime";
import { COMPONENT, type SidecarPorts } from "./dapr.js";

// A separate entry point (`@lsp/dapr/configuration`): the Dapr SDK and its gRPC stack are loaded
// only by the apps that subscribe to a configuration store (edge, payments). Dapr's HTTP API
// cannot replace the stream: an HTTP subscription delivers changes to an app route and says
// nothing when it ends (a restarted sidecar forgets it), so a stale app could not notice.

/** The Dapr SDK client, over gRPC to the local sidecar; its own logs become our JSON lines. */
export function createDaprClient(ports: SidecarPorts, log?: Logger): DaprClient {
  return new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(ports.DAPR_GRPC_PORT),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    ...(ports.DAPR_API_TOKEN ? { daprApiToken: ports.DAPR_API_TOKEN } : {}),
    ...(log ? { logger: { level: LogLevel.Warn, service: libraryLogger(log, "dapr-sdk") } } : {}),
  });
}

/** One item of a Dapr configuration store: its value and the store's version of it. */
export interface ConfigurationItem {
  value: string;
  version: string;
}
export type ConfigurationItems = Record<string, ConfigurationItem>;

/**
 * The two configuration RPCs of the sidecar's gRPC API, as the SDK's generated client exposes
 * them. The SDK's own `configuration.subscribe` swallows a broken stream without telling its
 * caller (a restarted sidecar would leave the app on stale values forever), so the subscription
 * below drives the stream itself through the SDK's public `getClient()`.
 */
interface ConfigurationRpc {
  getConfiguration(
    request: { storeName: string; keys: string[]; metadata: Record<string, string> },
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ items: ConfigurationItems }>;
  subscribeConfiguration(
    request: { storeName: string; keys: string[]; metadata: Record<string, string> },
    options?: { signal?: AbortSignal },
  ): AsyncIterable<{ id: string; items: ConfigurationItems }>;
}

async function configurationRpc(dapr: DaprClient): Promise<ConfigurationRpc> {
  // DaprClient over gRPC (createDaprClient): its transport is the SDK's GRPCClient, whose public
  // getClient() is the generated Dapr service client with the API-token interceptor.
  const transport = dapr.daprClient as unknown as { getClient?: () => Promise<ConfigurationRpc> };
  if (typeof transport.getClient !== "function")
    throw new Error("configuration API needs the gRPC Dapr client (createDaprClient)");
  return transport.getClient();
}

/** Every item of a configuration store (`keys` empty), or the named ones; UNAVAILABLE on failure. */
export async function getConfiguration(
  dapr: DaprClient,
  store: string,
  keys: string[] = [],
  timeoutMs = 5000,
): Promise<ConfigurationItems> {
  if (!COMPONENT.test(store)) throw new AppError("BAD_USER_INPUT", "refused: not a configuration store name");
  try {
    const rpc = await configurationRpc(dapr);
    const answer = await rpc.getConfiguration({ storeName: store, keys, metadata: {} }, { timeoutMs });
    return answer.items;
  } catch (err) {
    throw new AppError("UNAVAILABLE", `configuration store ${store} unavailable`, { cause: String(err) });
  }
}

export interface ConfigurationSubscription {
  /** Resolves once the first full snapshot has been handed to `onItems`. */
  ready: Promise<void>;
  stop: () => void;
}

/**
 * Live configuration: subscribes to every key of `store`, then reads the whole store once, and
 * hands both the snapshot and every later change to `onItems` (items carry the store's version,
 * so the receiver can drop a snapshot item older than a change it already has). When the stream
 * breaks (sidecar restart, store error) it subscribes again and re-reads the snapshot, after a
 * backoff of 0.2 s doubling to 5 s: a change missed while the stream was down is in the new
 * snapshot. No polling: nothing is read while the stream is up.
 */
export function subscribeConfiguration(
  dapr: DaprClient,
  store: string,
  onItems: (items: ConfigurationItems, source: "snapshot" | "change") => void,
  log: Logger,
): ConfigurationSubscription {
  if (!COMPONENT.test(store)) throw new AppError("BAD_USER_INPUT", "refused: not a configuration store name");
  const abort = new AbortController();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const request = { storeName: store, keys: [] as string[], metadata: {} };
  void (async () => {
    let backoffMs = 200;
    while (!abort.signal.aborted) {
      try {
        const rpc = await configurationRpc(dapr);
        const stream = rpc.subscribeConfiguration(request, { signal: abort.signal });
        let subscribed = false;
        for await (const message of stream) {
          // The sidecar's first message carries the subscription id only: from then on it
          // forwards changes, so the snapshot read now misses none.
          if (!subscribed) {
            subscribed = true;
            const snapshot = await rpc.getConfiguration(request, { signal: abort.signal, timeoutMs: 5000 });
            onItems(snapshot.items, "snapshot");
            markReady();
            backoffMs = 200;
          }
          if (Object.keys(message.items).length > 0) onItems(message.items, "change");
        }
        if (!abort.signal.aborted) log.warn({ store }, "configuration stream ended; subscribing again");
      } catch (err) {
        if (abort.signal.aborted) return;
        log.warn({ err, store, retryInMs: backoffMs }, "configuration subscription failed; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
      backoffMs = Math.min(backoffMs * 2, 5000);
    }
  })();
  return { ready, stop: () => abort.abort() };
}
