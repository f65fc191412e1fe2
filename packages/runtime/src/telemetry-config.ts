// What the telemetry preload reads from the environment, parsed apart from the SDK so that it is
// tested without starting one and read before deciding what to load.

/**
 * - `off`: OTEL_SDK_DISABLED=true; nothing is loaded, no hook, no context (the standard switch).
 * - `propagate`: no OTLP endpoint; spans are non-recording (the sampler says no), which still
 *   gives each log line its trace id and carries the W3C context through Dapr, but builds no span
 *   objects nobody would export; the exporter is not loaded.
 * - `export`: spans are recorded, sampled by the standard OTEL_TRACES_SAMPLER(_ARG) (default
 *   parent-based, always on), and exported over OTLP/HTTP (JSON) to `tracesUrl`.
 */
export type TelemetryConfig =
  | { mode: "off" }
  | { mode: "propagate"; serviceName: string }
  | { mode: "export"; serviceName: string; tracesUrl: string };

/** Thrown for a setting the preload cannot use; names the variable. */
export class TelemetryConfigError extends Error {
  override name = "TelemetryConfigError";
}

/** A boolean as the OpenTelemetry spec reads one: only "true" (any case) is true. */
function envBoolean(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === "true";
}

/** An unset or blank variable is absent (the spec treats empty as unset). */
function envString(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

export function telemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  if (envBoolean(env.OTEL_SDK_DISABLED)) return { mode: "off" };
  const serviceName = envString(env.OTEL_SERVICE_NAME) ?? "unknown";
  const endpoint = envString(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!endpoint) return { mode: "propagate", serviceName };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TelemetryConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT: not a URL: ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new TelemetryConfigError(
      `OTEL_EXPORTER_OTLP_ENDPOINT: must be http(s), not ${JSON.stringify(url.protocol)}`,
    );
  // The spec's base endpoint: the traces path is appended to it (a trailing slash or not).
  return { mode: "export", serviceName, tracesUrl: `${endpoint.replace(/\/+$/, "")}/v1/traces` };
}
