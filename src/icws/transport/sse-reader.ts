/**
 * The server-sent-event stream format (WHATWG HTML, "Server-sent events", "Interpreting an event stream"): lines
 * ended by CRLF, LF or CR; `field: value` (one space after the colon dropped); `data` lines of one event joined by
 * LF; a blank line dispatches the event; `:` lines are comments (pings); `retry` sets the reconnection time.
 *
 * Written here rather than taken from a parser library because an event's data is not buffered: it is handed to a
 * StreamedMessage as it arrives, so that a full replace of a big directory is parsed user by user while it is
 * still being received (see src/icws/message-stream.ts).
 */
import type { KnownUserTexts } from '../../mirror/input.js';
import { StreamedMessage } from '../message-stream.js';
import type { ParseOutcome } from '../parse.js';

/** Longest field name or `retry` value kept; anything longer is no field this reader knows. */
const MAX_FIELD_CHARS = 64;

export interface SseReaderSink {
  /** A complete event's message (events without data carry none and are not reported). */
  onMessage(outcome: ParseOutcome): void;
  onRetry(ms: number): void;
}

type LineState = 'field' | 'value' | 'skip';

export class SseReader {
  private state: LineState = 'field';
  private field = '';
  private value = '';
  /** The space after `field:` is still to be dropped. */
  private dropSpace = false;
  /** The last character fed was a CR: an LF right after it ends nothing more. */
  private afterCr = false;
  private event: StreamedMessage | undefined;
  private dataLines = 0;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly sink: SseReaderSink,
    /** Users whose text the mirror holds unchanged (KnownUserTexts, src/mirror/input.ts): left unparsed in a full replace. */
    private readonly knownUserTexts?: KnownUserTexts,
  ) {}

  /** The next decoded text of the stream. Throws MessageTooLargeError for an event past its bound. */
  feed(text: string): void {
    const n = text.length;
    let i = 0;
    if (this.afterCr && n && text.charCodeAt(0) === 10) i = 1;
    this.afterCr = false;
    while (i < n) {
      if (this.state === 'field') {
        const c = text.charCodeAt(i);
        if (c === 10 || c === 13) {
          this.endLine();
          i = this.lineBreak(text, i);
          continue;
        }
        if (c === 58 /* : */) {
          i++;
          if (this.field === '')
            this.state = 'skip'; // a comment
          else this.startValue();
          continue;
        }
        this.field += text[i];
        i++;
        if (this.field.length > MAX_FIELD_CHARS) this.state = 'skip';
        continue;
      }
      // Within a value (or a skipped line): everything up to the next line break.
      let end = text.indexOf('\n', i);
      const cr = text.indexOf('\r', i);
      if (cr !== -1 && (end === -1 || cr < end)) end = cr;
      const stop = end === -1 ? n : end;
      if (this.dropSpace && i < stop) {
        this.dropSpace = false;
        if (text.charCodeAt(i) === 32) i++;
      }
      if (i < stop && this.state === 'value') this.valuePiece(text.slice(i, stop));
      if (end === -1) return;
      this.endLine();
      i = this.lineBreak(text, end);
    }
  }

  private lineBreak(text: string, at: number): number {
    if (text.charCodeAt(at) === 13) {
      if (at + 1 < text.length) return text.charCodeAt(at + 1) === 10 ? at + 2 : at + 1;
      this.afterCr = true;
    }
    return at + 1;
  }

  private startValue(): void {
    this.dropSpace = true;
    this.value = '';
    if (this.field === 'data') {
      this.event ??= this.newEvent();
      // Lines of one event's data are joined with LF.
      if (this.dataLines++) this.event.write('\n');
      this.state = 'value';
    } else this.state = this.field === 'retry' ? 'value' : 'skip';
  }

  private valuePiece(piece: string): void {
    if (this.field === 'data') this.event!.write(piece);
    else if (this.value.length < MAX_FIELD_CHARS) this.value += piece.slice(0, MAX_FIELD_CHARS);
  }

  private endLine(): void {
    const state = this.state;
    const field = this.field;
    this.state = 'field';
    this.field = '';
    this.dropSpace = false;
    if (state === 'field' && field === '') return this.dispatch(); // a blank line
    if (state === 'field' && field === 'data') {
      // `data` without a colon: an empty data line.
      this.event ??= this.newEvent();
      if (this.dataLines++) this.event.write('\n');
    }
    if (state === 'value' && field === 'retry' && /^\d+$/.test(this.value)) this.sink.onRetry(Number(this.value));
  }

  /** An event's message, read as its data arrives; a full replace is handed on as soon as its users begin. */
  private newEvent(): StreamedMessage {
    return new StreamedMessage(this.maxMessageBytes, this.knownUserTexts, (message) => this.sink.onMessage({ kind: 'message', message }));
  }

  private dispatch(): void {
    const event = this.event;
    this.event = undefined;
    this.dataLines = 0;
    if (!event || event.empty) return;
    const outcome = event.end();
    // A full replace handed on as its users began was reported then: only a malformed end is news.
    if (!event.handedOn || outcome.kind !== 'message') this.sink.onMessage(outcome);
  }

  /** A full replace being read has as many users read ahead as it may: resolves once the writer took some. */
  room(): Promise<void> | undefined {
    return this.event?.room();
  }

  /** The stream ended (`why`): an event it was reading is cut short. */
  abandon(why: string): void {
    this.event?.abandon(why);
    this.event = undefined;
    this.dataLines = 0;
  }
}
