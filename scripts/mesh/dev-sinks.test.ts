import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { devSinksServer } from "./dev-sinks.js";

test("the DEV ONLY sinks keep what the sms and push bindings sent, newest first, and can fail on purpose", async () => {
  const server = devSinksServer().listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (route: string, body: unknown) =>
    fetch(`${base}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  try {
    assert.equal((await post("/sms", { to: "+84912000001", text: "Mã của bạn là 111111" })).status, 204);
    assert.equal((await post("/sms", { to: "+84912000001", text: "Mã của bạn là 222222" })).status, 204);
    assert.equal((await post("/sms", { to: "+84912000002", text: "other" })).status, 204);
    assert.equal((await post("/sms", { nope: 1 })).status, 400);
    const mine = (await (await fetch(`${base}/sms?to=%2B84912000001`)).json()) as { text: string }[];
    assert.deepEqual(
      mine.map((m) => m.text),
      ["Mã của bạn là 222222", "Mã của bạn là 111111"],
    );

    assert.equal((await post("/push", { message: { token: "t" } })).status, 200);
    await post("/push/failing", { failing: true });
    assert.equal((await post("/push", { message: { token: "t" } })).status, 503);
    const pushed = (await (await fetch(`${base}/push`)).json()) as { failing: boolean; messages: unknown[] };
    assert.deepEqual(pushed, { failing: true, messages: [{ message: { token: "t" } }] });
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
  } finally {
    server.close();
  }
});
