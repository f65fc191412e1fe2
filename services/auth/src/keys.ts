import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import type { SidecarPorts } from "@lsp/dapr";
import type { DaprState } from "./dapr-state.js";
import { readSecret } from "@lsp/dapr";

/**
 * The signing key ring: ES256 (P-256) private keys from the Dapr secret store
 * (`auth-signing-keys` = `{"keys":[{"kid","privateKeyPem"}]}`), every one of them published in the
 * JWKS, one of them active for signing. The active kid lives in Dapr state so that every auth
 * replica signs with the same key. Rotation = activate the next key of the ring: tokens signed
 * by the previous key stay valid (it is still in the JWKS) until they expire, so nobody is
 * logged out. Retiring a key = removing it from the secret after the last token it signed expired.
 */
const Ring = z.object({
  keys: z.array(z.object({ kid: z.string().min(1), privateKeyPem: z.string().min(1) })).min(1),
});

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

const ACTIVE_KEY = "signing-active-kid";
const ACTIVE_CACHE_MS = 2000;

export class KeyRing {
  private keys: SigningKey[] = [];
  private active: { kid: string; at: number } | undefined;

  constructor(
    private readonly ports: SidecarPorts,
    private readonly state: DaprState,
  ) {}

  /** (Re)reads the ring from the secret store. */
  async load(): Promise<void> {
    const ring = Ring.parse(JSON.parse(await readSecret(this.ports, "secretstore", "auth-signing-keys")));
    this.keys = ring.keys.map(({ kid, privateKeyPem }) => {
      const privateKey = createPrivateKey(privateKeyPem);
      const publicJwk = createPublicKey(privateKey).export({ format: "jwk" });
      return { kid, privateKey, publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" } };
    });
  }

  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async activeKey(): Promise<SigningKey> {
    if (!this.active || Date.now() - this.active.at > ACTIVE_CACHE_MS) {
      const stored = await this.state.get<{ kid: string }>(ACTIVE_KEY);
      this.active = { kid: stored?.value.kid ?? this.keys[0]?.kid ?? "", at: Date.now() };
    }
    const key = this.keys.find((k) => k.kid === this.active?.kid) ?? this.keys[0];
    if (!key) throw new AppError("UNAVAILABLE", "no signing key");
    return key;
  }

  /** Re-reads the ring and activates the key after the active one (wrapping around). */
  async rotate(): Promise<{ previousKid: string; activeKid: string }> {
    await this.load();
    const previous = await this.activeKey();
    const i = this.keys.findIndex((k) => k.kid === previous.kid);
    const next = this.keys[(i + 1) % this.keys.length];
    if (!next) throw new AppError("UNAVAILABLE", "no signing key");
    await this.state.set(ACTIVE_KEY, { kid: next.kid });
    this.active = { kid: next.kid, at: Date.now() };
    return { previousKid: previous.kid, activeKid: next.kid };
  }
}
