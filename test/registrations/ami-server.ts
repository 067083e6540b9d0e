// A protocol-level Asterisk Manager Interface server for tests: real TCP on 127.0.0.1, Asterisk's wire format.
import { createBlockReader, startTcpTestServer, type TcpTestServer } from "./tcp-test-server.js";

/** Fields of one PJSIP contact as `PJSIPShowContacts` lists it (ContactList event). */
export interface AmiTestContact {
  readonly aor: string;
  readonly endpoint: string;
  readonly uri: string;
  readonly viaAddr?: string;
  /** Absolute epoch seconds, as Asterisk prints ExpirationTime. */
  readonly expirationTime: number;
}

/** One chan_sip peer as `SIPpeers` lists it (PeerEntry event). */
export interface AmiTestPeer {
  readonly name: string;
  /** `-none-` when not registered. */
  readonly ip: string;
  readonly dynamic: boolean;
}

export interface AmiTestServerOptions {
  readonly username: string;
  readonly secret: string;
  contacts: AmiTestContact[];
  peers: AmiTestPeer[];
  /** Answer PJSIPShowContacts / SIPpeers with "Invalid/unknown command" (module not loaded). */
  readonly noPjsip?: boolean;
  readonly noSip?: boolean;
  /** Write output in pieces of this many bytes. */
  readonly chunkSize?: number;
  /** Unsolicited events (raw field lists) written between the first and second ContactList item. */
  midListEvents?: Record<string, string>[];
}

export interface AmiTestServer extends Omit<TcpTestServer, "broadcast"> {
  /** Every action received, in order, as `Action` name (logins included). */
  readonly actions: string[];
  /** Sends an unsolicited event to every logged-in connection. */
  emit(fields: Record<string, string>): void;
}

function message(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")
    .concat("\r\n");
}

/** Parses client actions independently of the code under test: CRLF lines, blank line ends an action. */
function createActionReader(onAction: (fields: Map<string, string>) => void): (chunk: Buffer) => void {
  return createBlockReader("\r\n\r\n", (block) => {
    const fields = new Map<string, string>();
    for (const line of block.split("\r\n")) {
      const i = line.indexOf(": ");
      if (i > 0) fields.set(line.slice(0, i).toLowerCase(), line.slice(i + 2));
    }
    onAction(fields);
  });
}

export async function startAmiTestServer(options: AmiTestServerOptions): Promise<AmiTestServer> {
  const actions: string[] = [];

  const server = await startTcpTestServer(options.chunkSize, (session) => {
    const { socket, write } = session;
    write("Asterisk Call Manager/7.0.3\r\n");
    socket.on(
      "data",
      createActionReader((f) => {
        const action = f.get("action") ?? "";
        const id = f.get("actionid");
        const withId = (fields: Record<string, string>): Record<string, string> =>
          id === undefined ? fields : { ...fields, ActionID: id };
        actions.push(action);
        const lower = action.toLowerCase();
        if (lower === "login") {
          if (f.get("username") === options.username && f.get("secret") === options.secret) {
            write(message(withId({ Response: "Success", Message: "Authentication accepted" })));
            write(
              message({ Event: "FullyBooted", Privilege: "system,all", Uptime: "5", Status: "Fully Booted" }),
            );
            session.mark();
          } else {
            // Asterisk ends the session after a failed login.
            write(message(withId({ Response: "Error", Message: "Authentication failed" })));
            setTimeout(() => socket.end(), 20);
          }
          return;
        }
        if (!session.marked()) {
          write(message(withId({ Response: "Error", Message: "Permission denied" })));
          return;
        }
        if (lower === "pjsipshowcontacts") {
          if (options.noPjsip) return write(message(withId(unknown(action))));
          write(
            message(
              withId({
                Response: "Success",
                EventList: "start",
                Message: "A listing of Contacts follows, presented as ContactList events",
              }),
            ),
          );
          options.contacts.forEach((c, i) => {
            if (i === 1) for (const e of options.midListEvents ?? []) write(message(e));
            write(
              message(
                withId({
                  Event: "ContactList",
                  ObjectType: "contact",
                  ObjectName: `${c.aor};@${(i + 1).toString(16).padStart(32, "0")}`,
                  ...(c.viaAddr ? { ViaAddr: c.viaAddr, ViaPort: "5060" } : {}),
                  QualifyTimeout: "3.000000",
                  CallId: `call-${i}`,
                  RegServer: "pbx",
                  PruneOnBoot: "no",
                  Path: "",
                  Endpoint: c.endpoint,
                  AuthenticateQualify: "false",
                  Uri: c.uri,
                  QualifyFrequency: "60",
                  UserAgent: "Yealink SIP-T46S 66.86.0.15",
                  ExpirationTime: String(c.expirationTime),
                  OutboundProxy: "",
                  Status: "Reachable",
                  RoundtripUsec: "12345",
                }),
              ),
            );
          });
          write(
            message(
              withId({
                Event: "ContactListComplete",
                EventList: "Complete",
                ListItems: String(options.contacts.length),
              }),
            ),
          );
          return;
        }
        if (lower === "sippeers") {
          if (options.noSip) return write(message(withId(unknown(action))));
          write(
            message(
              withId({ Response: "Success", EventList: "start", Message: "Peer status list will follow" }),
            ),
          );
          for (const p of options.peers)
            write(
              message(
                withId({
                  Event: "PeerEntry",
                  Channeltype: "SIP",
                  ObjectName: p.name,
                  ChanObjectType: "peer",
                  IPaddress: p.ip,
                  IPport: p.ip === "-none-" ? "0" : "5060",
                  Dynamic: p.dynamic ? "yes" : "no",
                  AutoForcerport: "yes",
                  Forcerport: "yes",
                  VideoSupport: "no",
                  TextSupport: "no",
                  ACL: "no",
                  Status: p.ip === "-none-" ? "UNKNOWN" : "OK (5 ms)",
                  RealtimeDevice: "no",
                  Description: "",
                }),
              ),
            );
          write(
            message(
              withId({
                Event: "PeerlistComplete",
                EventList: "Complete",
                ListItems: String(options.peers.length),
              }),
            ),
          );
          return;
        }
        if (lower === "logoff") {
          write(message(withId({ Response: "Goodbye", Message: "Thanks for all the fish." })));
          setTimeout(() => socket.end(), 5);
          return;
        }
        write(message(withId(unknown(action))));
      }),
    );
  });

  return {
    port: server.port,
    actions,
    connections: server.connections,
    emit(fields) {
      // As Asterisk writes an event: Event first, then Privilege (system unless the event says).
      server.broadcast(message({ Event: fields["Event"] ?? "", Privilege: "system,all", ...fields }));
    },
    dropAll: server.dropAll,
    close: server.close,
  };
}

function unknown(action: string): Record<string, string> {
  return {
    Response: "Error",
    Message: `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`,
  };
}
