// The preload's settings: off only by the standard switch, export only with an endpoint (the
// traces path appended to it as the spec says), a bad endpoint refused with its name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TelemetryConfigError, telemetryConfig } from "./telemetry-config.js";

test("OTEL_SDK_DISABLED=true switches everything off, whatever else is set", () => {
  for (const value of ["true", "TRUE", " True "])
    assert.deepEqual(
      telemetryConfig({ OTEL_SDK_DISABLED: value, OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }),
      { mode: "off" },
    );
  // Anything but "true" is not the switch (the spec's boolean).
  for (const value of ["false", "1", "yes", ""])
    assert.equal(telemetryConfig({ OTEL_SDK_DISABLED: value }).mode, "propagate");
});

test("without an endpoint: propagate only, under the service's name", () => {
  assert.deepEqual(telemetryConfig({ OTEL_SERVICE_NAME: "sales" }), {
    mode: "propagate",
    serviceName: "sales",
  });
  assert.deepEqual(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "  " }), {
    mode: "propagate",
    serviceName: "unknown",
  });
});

test("with an endpoint: export to its /v1/traces", () => {
  for (const endpoint of ["http://collector:4318", "http://collector:4318/", " http://collector:4318// "])
    assert.deepEqual(telemetryConfig({ OTEL_SERVICE_NAME: "edge", OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }), {
      mode: "export",
      serviceName: "edge",
      tracesUrl: "http://collector:4318/v1/traces",
    });
  // A path on the endpoint is kept: the traces path goes under it.
  assert.deepEqual(telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otel.example/prefix" }), {
    mode: "export",
    serviceName: "unknown",
    tracesUrl: "https://otel.example/prefix/v1/traces",
  });
});

test("a bad endpoint is refused, naming the variable", () => {
  for (const endpoint of ["collector:4318 no scheme", "ftp://collector", "not a url"])
    assert.throws(
      () => telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
      (e: unknown) =>
        e instanceof TelemetryConfigError && e.message.startsWith("OTEL_EXPORTER_OTLP_ENDPOINT: "),
    );
});
