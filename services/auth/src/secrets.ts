import { AppError, type SidecarPorts } from "@lsp/service-kit";

/** Reads one secret from the Dapr secret store (`secretstore`); the value, or UNAVAILABLE. */
export async function readSecret(ports: SidecarPorts, name: string, store = "secretstore"): Promise<string> {
  const url = `http://127.0.0.1:${ports.DAPR_HTTP_PORT}/v1.0/secrets/${store}/${encodeURIComponent(name)}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  } catch (err) {
    throw new AppError("UNAVAILABLE", "secret store unreachable", { cause: String(err) });
  }
  if (!res.ok) throw new AppError("UNAVAILABLE", `secret ${name} unavailable (${res.status})`);
  const body = (await res.json()) as Record<string, string>;
  const value = body[name];
  if (value === undefined) throw new AppError("UNAVAILABLE", `secret ${name} is empty`);
  return value;
}
