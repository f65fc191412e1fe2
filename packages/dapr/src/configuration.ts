import { Client, Metadata, credentials, type ServiceError } from "@grpc/grpc-js";
import protobuf from "protobufjs/light.js";
import { AppError, type Logger } from "@lsp/runtime";
import { COMPONENT, DAPR_TOKEN_HEADER, type SidecarPorts } from "./dapr.js";

// A separate entry point (`@lsp/dapr/configuration`): the one part of the sidecar's API used over
// gRPC, loaded only by the apps that subscribe to a configuration store (edge, payments). Dapr's
// HTTP API cannot replace the stream: an HTTP subscription delivers changes to an app route and
// says nothing when it ends (a restarted sidecar forgets it), so a stale app could not notice.
// The client is @grpc/grpc-js with the five messages it needs described for protobufjs (below),
// not the Dapr SDK: the SDK loads its generated code for the whole API (about 12 MB of heap, 30
// MB of RSS per app, against 2 MB for these two libraries).

/** One item of a Dapr configuration store: its value and the store's version of it. */
export interface ConfigurationItem {
  value: string;
  version: string;
}
export type ConfigurationItems = Record<string, ConfigurationItem>;

interface ConfigurationRequest {
  storeName: string;
  keys: string[];
  metadata: Record<string, string>;
}

/**
 * The two configuration RPCs of the sidecar's gRPC API (dapr/proto/runtime/v1/dapr.proto,
 * configuration.proto and common.proto of Dapr 1.18: the field numbers below are theirs).
 */
export interface ConfigurationRpc {
  getConfiguration(
    request: ConfigurationRequest,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<{ items: ConfigurationItems }>;
  subscribeConfiguration(
    request: ConfigurationRequest,
    options?: { signal?: AbortSignal },
  ): AsyncIterable<{ id: string; items: ConfigurationItems }>;
}

const map = (id: number, type: string) => ({ keyType: "string", type, id });
const messages = protobuf.Root.fromJSON({
  nested: {
    ConfigurationItem: {
      fields: {
        value: { type: "string", id: 1 },
        version: { type: "string", id: 2 },
        metadata: map(3, "string"),
      },
    },
    // GetConfigurationRequest and SubscribeConfigurationRequest have the same fields.
    ConfigurationRequest: {
      fields: {
        storeName: { type: "string", id: 1 },
        keys: { rule: "repeated", type: "string", id: 2 },
        metadata: map(3, "string"),
      },
    },
    GetConfigurationResponse: { fields: { items: map(1, "ConfigurationItem") } },
    SubscribeConfigurationResponse: {
      fields: { id: { type: "string", id: 1 }, items: map(2, "ConfigurationItem") },
    },
  },
});
const RequestType = messages.lookupType("ConfigurationRequest");
const GetResponse = messages.lookupType("GetConfigurationResponse");
const SubscribeResponse = messages.lookupType("SubscribeConfigurationResponse");
const SERVICE = "/dapr.proto.runtime.v1.Dapr";

const encodeRequest = (request: ConfigurationRequest) => Buffer.from(RequestType.encode(request).finish());
function itemsOf(raw: unknown): ConfigurationItems {
  const items: ConfigurationItems = {};
  for (const [key, item] of Object.entries((raw ?? {}) as Record<string, Partial<ConfigurationItem>>))
    items[key] = { value: item.value ?? "", version: item.version ?? "" };
  return items;
}

/** The configuration client of the local sidecar, over gRPC, with the app's Dapr API token. */
export class DaprClient implements ConfigurationRpc {
  private readonly client: Client;
  private readonly metadata = new Metadata();

  constructor(ports: SidecarPorts) {
    this.client = new Client(`127.0.0.1:${ports.DAPR_GRPC_PORT}`, credentials.createInsecure());
    if (ports.DAPR_API_TOKEN) this.metadata.set(DAPR_TOKEN_HEADER, ports.DAPR_API_TOKEN);
  }

  getConfiguration(
    request: ConfigurationRequest,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ items: ConfigurationItems }> {
    return new Promise((resolve, reject) => {
      const call = this.client.makeUnaryRequest(
        `${SERVICE}/GetConfiguration`,
        encodeRequest,
        (buf: Buffer) => GetResponse.toObject(GetResponse.decode(buf)),
        request,
        this.metadata,
        { deadline: Date.now() + (options.timeoutMs ?? 5000) },
        (err: ServiceError | null, answer?: { items?: unknown }) =>
          err ? reject(err) : resolve({ items: itemsOf(answer?.items) }),
      );
      options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    });
  }

  async *subscribeConfiguration(
    request: ConfigurationRequest,
    options: { signal?: AbortSignal } = {},
  ): AsyncIterable<{ id: string; items: ConfigurationItems }> {
    const call = this.client.makeServerStreamRequest(
      `${SERVICE}/SubscribeConfiguration`,
      encodeRequest,
      (buf: Buffer) => SubscribeResponse.toObject(SubscribeResponse.decode(buf)),
      request,
      this.metadata,
    );
    const cancel = () => call.cancel();
    options.signal?.addEventListener("abort", cancel, { once: true });
    try {
      for await (const message of call as AsyncIterable<{ id?: string; items?: unknown }>)
        yield { id: message.id ?? "", items: itemsOf(message.items) };
    } finally {
      options.signal?.removeEventListener("abort", cancel);
      call.cancel();
    }
  }
}

/** The configuration client of the app's own sidecar. */
export function createDaprClient(ports: SidecarPorts): DaprClient {
  return new DaprClient(ports);
}

/** Every item of a configuration store (`keys` empty), or the named ones; UNAVAILABLE on failure. */
export async function getConfiguration(
  dapr: ConfigurationRpc,
  store: string,
  keys: string[] = [],
  timeoutMs = 5000,
): Promise<ConfigurationItems> {
  if (!COMPONENT.test(store)) throw new AppError("BAD_USER_INPUT", "refused: not a configuration store name");
  try {
    const answer = await dapr.getConfiguration({ storeName: store, keys, metadata: {} }, { timeoutMs });
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
  dapr: ConfigurationRpc,
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
        const stream = dapr.subscribeConfiguration(request, { signal: abort.signal });
        let subscribed = false;
        for await (const message of stream) {
          // The sidecar's first message carries the subscription id only: from then on it
          // forwards changes, so the snapshot read now misses none.
          if (!subscribed) {
            subscribed = true;
            const snapshot = await dapr.getConfiguration(request, { signal: abort.signal, timeoutMs: 5000 });
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
