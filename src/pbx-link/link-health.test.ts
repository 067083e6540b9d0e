// A link's health as it goes up and down: when it changed, and why it last went down.
import { expect, it } from "vitest";
import { createHealth } from "./link-health.js";

it("is down with no time before the first attempt, up since it came up, down since the first failure", () => {
  let now = 1000;
  const h = createHealth(() => now);
  expect(h.snapshot()).toEqual({ up: false, since: null, lastError: null });
  now = 2000;
  h.down("ECONNREFUSED");
  now = 3000;
  h.down("ECONNREFUSED");
  // Down since the first of the failures in a row.
  expect(h.snapshot()).toEqual({ up: false, since: 2000, lastError: "ECONNREFUSED" });
  now = 4000;
  h.up();
  now = 5000;
  h.up();
  // Up since it came up; the last failure is kept for the record.
  expect(h.snapshot()).toEqual({ up: true, since: 4000, lastError: "ECONNREFUSED" });
  now = 6000;
  h.down("login refused");
  expect(h.snapshot()).toEqual({ up: false, since: 6000, lastError: "login refused" });
});
