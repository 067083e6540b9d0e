// Unit tests of ESL framing: header blocks, byte-counted bodies, URL-encoded event headers, bounds.
import { describe, expect, it } from "vitest";
import { createEslParser, formatEslCommand, parsePlainEvent } from "./esl-wire.js";

const EVENT_BODY =
  "Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\nfrom-user: 1001\n" +
  "contact: %22Zo%C3%AFper%22%20%3Csip%3A1001%40192.168.1.50%3A5060%3E\nnetwork-ip: 203.0.113.5\nexpires: 3600\n\n";
const WIRE =
  "Content-Type: auth/request\n\n" +
  "Content-Type: command/reply\nReply-Text: +OK accepted\n\n" +
  `Content-Length: ${Buffer.byteLength(EVENT_BODY)}\nContent-Type: text/event-plain\n\n${EVENT_BODY}` +
  'Content-Type: api/response\nContent-Length: 15\n\n{"row_count":0}';

describe("esl parser", () => {
  it("frames header blocks and byte-counted bodies, even with multibyte text split anywhere", () => {
    const bytes = Buffer.from(WIRE);
    for (let cut = 1; cut < bytes.length; cut += 3) {
      const p = createEslParser();
      const frames = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(frames.map((f) => f.headers.get("content-type"))).toEqual([
        "auth/request",
        "command/reply",
        "text/event-plain",
        "api/response",
      ]);
      expect(frames[3]?.body).toBe('{"row_count":0}');
    }
  });

  it("URL-decodes event header values", () => {
    const h = parsePlainEvent(EVENT_BODY);
    expect(h.get("event-subclass")).toBe("sofia::register");
    expect(h.get("contact")).toBe('"Zoïper" <sip:1001@192.168.1.50:5060>');
    expect(h.get("network-ip")).toBe("203.0.113.5");
  });

  it("keeps a malformed escape as raw text", () => {
    expect(parsePlainEvent("bad: %zz%\n\n").get("bad")).toBe("%zz%");
  });

  it("refuses absurd lengths instead of buffering them", () => {
    const p = createEslParser({ maxBodyBytes: 10 });
    expect(p.push(Buffer.from("Content-Length: 11\n\n"))).toEqual([]);
    expect(p.broken()).toBe("bad Content-Length");
    const q = createEslParser({ maxHeaderBytes: 8 });
    q.push(Buffer.from("Content-Type: no end in sight"));
    expect(q.broken()).toBe("header block too long");
  });

  it("formats commands without embedded newlines", () => {
    expect(formatEslCommand("auth x\n\napi system reboot")).toBe("auth xapi system reboot\n\n");
  });
});
