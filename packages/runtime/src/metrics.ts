import type { RequestHandler } from "express";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One registry per process; services add business metrics to it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const requestDuration = new Histogram({
  name: "http_server_request_duration_seconds",
  help: "HTTP request duration by method, route and status (RED: rate, errors, duration)",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

const requestsTotal = new Counter({
  name: "http_server_requests_total",
  help: "HTTP requests by method, route and status",
  labelNames: ["method", "route", "status"] as const,
  registers: [registry],
});

/** Records RED metrics per matched route (the route pattern, never the raw URL, to bound cardinality). */
export function httpMetrics(): RequestHandler {
  return (req, res, next) => {
    const end = requestDuration.startTimer();
    res.on("finish", () => {
      const route = (req.route?.path as string | undefined) ? `${req.baseUrl}${req.route.path}` : "unmatched";
      const labels = { method: req.method, route, status: String(res.statusCode) };
      end(labels);
      requestsTotal.inc(labels);
    });
    next();
  };
}
