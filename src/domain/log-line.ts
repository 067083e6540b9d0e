// A line read from a log source, with where it came from so evidence can point back at it.

export interface LogLine {
  /** Source identity, e.g. the file path or `journald:<unit>`. */
  readonly source: string;
  /** The text, decoded (invalid UTF-8 replaced), without the line terminator, capped in length. */
  readonly text: string;
  /** 1-based line number within the file when known (file sources, replays). */
  readonly lineNo?: number;
  /**
   * Event time supplied by the transport (journald's __REALTIME_TIMESTAMP), in epoch ms. When absent the
   * filter's date detection reads the time from the text.
   */
  readonly time?: number;
}
