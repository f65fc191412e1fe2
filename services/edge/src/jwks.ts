import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { AppError, invokeService, type SidecarPorts } from "@lsp/service-kit";

const Jwks = z.object({
  keys: z.array(z.object({ kid: z.string(), kty: z.string() }).passthrough()),
});

/** Don't ask auth again for an unknown kid more often than this (a forged kid must not flood it). */
const REFETCH_MIN_INTERVAL_MS = 1000;
/** Known keys are re-read this often anyway, so that a retired key stops verifying. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * auth's public signing keys (`/.well-known/jwks.json`, fetched through Dapr service invocation),
 * cached; a token with a kid we do not know makes us fetch again (a rotation just happened),
 * at most once a second.
 */
export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly ports: SidecarPorts) {}

  async keyFor(kid: string): Promise<KeyObject> {
    if (Date.now() - this.fetchedAt > MAX_AGE_MS) await this.refresh();
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.fetchedAt > REFETCH_MIN_INTERVAL_MS) {
      await this.refresh();
      key = this.keys.get(kid);
    }
    if (!key) throw new AppError("UNKNOWN_SIGNING_KEY", "token signed by an unknown key");
    return key;
  }

  private refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        const res = await invokeService(this.ports, "auth", ".well-known/jwks.json", { timeoutMs: 3000 });
        if (!res.ok) throw new AppError("UNAVAILABLE", `signing keys unavailable (${res.status})`);
        const jwks = Jwks.parse(await res.json());
        this.keys = new Map(
          jwks.keys.map((k) => [k.kid, createPublicKey({ key: k as JsonWebKey, format: "jwk" })]),
        );
        this.fetchedAt = Date.now();
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}
