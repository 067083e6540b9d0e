// A link down longer than the threshold is told once, and again when it is back up; a short outage is not.
import { describe, expect, it } from "vitest";
import { createLinkWatch, type WatchedLink } from "./link-watch.js";

const T0 = Date.UTC(2026, 11, 7, 19, 0, 0);
const down = (id: string, since: number | null, lastError: string | null = "auth refused"): WatchedLink => ({
  id,
  kind: "source",
  health: { up: false, since, lastError },
});
const up = (id: string, since: number): WatchedLink => ({
  id,
  kind: "source",
  health: { up: true, since, lastError: null },
});

describe("link watch", () => {
  it("tells a link down past the threshold once, and when it is back", () => {
    const w = createLinkWatch(300_000);
    expect(w.check([down("esl:127.0.0.1:8021", T0)], T0 + 299_999)).toEqual([]);
    expect(w.check([down("esl:127.0.0.1:8021", T0)], T0 + 300_000)).toEqual([
      "source esl:127.0.0.1:8021 down since 2026-12-07T19:00:00Z (auth refused): the failed logins it reports go unseen",
    ]);
    expect(w.check([down("esl:127.0.0.1:8021", T0)], T0 + 900_000)).toEqual([]);
    expect(w.check([up("esl:127.0.0.1:8021", T0 + 901_000)], T0 + 902_000)).toEqual([
      "source esl:127.0.0.1:8021 up again since 2026-12-07T19:15:01Z",
    ]);
    expect(w.check([up("esl:127.0.0.1:8021", T0 + 901_000)], T0 + 903_000)).toEqual([]);
  });

  it("says nothing of a short outage, nor of a link that has not tried yet; names registration providers", () => {
    const w = createLinkWatch(300_000);
    expect(w.check([down("ami:10.0.0.5:5038", T0)], T0 + 60_000)).toEqual([]);
    expect(w.check([up("ami:10.0.0.5:5038", T0 + 61_000)], T0 + 62_000)).toEqual([]);
    expect(w.check([down("never", null, null)], T0 + 3_600_000)).toEqual([]);
    const provider: WatchedLink = {
      id: "kamailio",
      kind: "registrations",
      health: { up: false, since: T0, lastError: "ECONNREFUSED" },
    };
    expect(w.check([provider], T0 + 600_000)).toEqual([
      "registrations from kamailio down since 2026-12-07T19:00:00Z (ECONNREFUSED): phones that register meanwhile are not known, so not spared",
    ]);
  });
});
