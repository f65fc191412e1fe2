import assert from "node:assert/strict";

/**
 * A GraphQL subscription over SSE (Yoga's `text/event-stream`) to one edge URL — one replica —
 * collecting every `next` payload. `ready` resolves once the edge accepted it (200 and headers).
 * `headers` may still be on their way (a login).
 */
export function sseSubscription<T>(
  edgeUrl: string,
  headers: Record<string, string> | Promise<Record<string, string>>,
  query: string,
  variables?: Record<string, unknown>,
) {
  const events: T[] = [];
  const abort = new AbortController();
  const ready = Promise.resolve(headers)
    .then((auth) =>
      fetch(edgeUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", ...auth },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      }),
    )
    .then((res) => {
      assert.equal(res.status, 200);
      const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      void (async () => {
        try {
          for (;;) {
            const chunk = await reader?.read();
            if (!chunk || chunk.done) return;
            buffer += chunk.value;
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = frame.split("\n").find((l) => l.startsWith("data:"));
              if (frame.includes("event: next") && data) events.push(JSON.parse(data.slice(5)) as T);
            }
          }
        } catch {
          // aborted
        }
      })();
    });
  return { events, ready, close: () => abort.abort() };
}
