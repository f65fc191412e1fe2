import { readSecret as readFromStore, type SidecarPorts } from "@lsp/service-kit";

/** Reads one secret from the Dapr secret store (`secretstore`); the value, or UNAVAILABLE. */
export async function readSecret(ports: SidecarPorts, name: string, store = "secretstore"): Promise<string> {
  return readFromStore(ports, store, name);
}
