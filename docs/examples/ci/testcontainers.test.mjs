// Testcontainers for Node (npm `testcontainers`) starting the recmock image (docs/ci.md).
//
// Run with `TESTCONTAINERS_RYUK_DISABLED=true node --test`: Ryuk, Testcontainers' cleanup container, is an
// image pull. The image has no shell, so readiness is an HTTP wait on /__admin/health.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { GenericContainer, Wait } from "testcontainers";

const IMAGE = process.env.RECMOCK_IMAGE ?? "recmock:0.1.0";
const SDKAPPID = 1400500001;
const TIC_KEY = "ci-example-tic-key-0000000000001";

let container;
let base;

before(async () => {
  container = await new GenericContainer(IMAGE)
    .withExposedPorts(8080)
    .withEnvironment({ RECMOCK_FROZEN_CLOCK: "true" })
    .withWaitStrategy(Wait.forHttp("/__admin/health", 8080).forStatusCode(200))
    .start();
  base = `http://${container.getHost()}:${container.getMappedPort(8080)}`;
});

after(async () => {
  await container?.stop();
});

const json = async (path, init = {}) => {
  const r = await fetch(`${base}${path}`, {
    ...init,
    headers: { "content-type": "application/json" },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: r.status, body: await r.json() };
};

test("a fixture, one vendor call and the callback log", async () => {
  // Load a fixture into the running world; its callbacks go nowhere here, and are logged.
  const world = JSON.parse(readFileSync(new URL("./fixtures/10-classroom.json", import.meta.url)));
  world.iclass.apps[0].callback_url = "http://127.0.0.1:9/nobody";
  const loaded = await json("/__admin/fixtures", { method: "POST", body: world });
  assert.equal(loaded.status, 200, JSON.stringify(loaded.body));
  const { body: clock } = await json("/__admin/clock");

  // One vendor call: the teacher creates a class (004 signs md5(tic_key + expire_time) on the URL).
  const expire = clock.now + 300;
  const sign = createHash("md5").update(`${TIC_KEY}${expire}`).digest("hex");
  const created = await json(`/paas/v1/class/create?sdkappid=${SDKAPPID}&random=1&sign=${sign}`, {
    method: "POST",
    body: { expire_time: expire, teacher_id: "t1", class_topic: "Algebra" },
  });
  assert.equal(created.body.error_code, 0, JSON.stringify(created.body));
  const classId = created.body.class_id;

  // The class begins, and the callback log shows class_begin.
  const begun = await json("/__admin/events", {
    method: "POST",
    body: { type: "iclass.class_begin", sdkappid: SDKAPPID, class_id: classId },
  });
  assert.equal(begun.status, 200, JSON.stringify(begun.body));
  const { body: log } = await json("/__admin/callbacks?vendor=iclass");
  const events = log.callbacks.filter((c) => c.payload.data.class_id === classId).map((c) => c.event);
  assert.equal(events[0], "class_begin", JSON.stringify(log));
});
