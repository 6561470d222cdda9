/**
 * Short texts from what a broker sent, for error messages: bounded in what is examined and in what
 * comes out, in one linear pass (a body of 8 MB of "<" must not stall the event loop).
 */

/** Characters of a body examined for its text; an error page says what matters in its first lines. */
const MAX_EXAMINED = 16_384;
/** Longest text taken from a reply into a message. */
export const MAX_REPLY_TEXT = 160;
/** Longest broker message or exception name kept in an error. */
export const MAX_BROKER_MESSAGE = 500;

/** The visible text of an HTML (or plain) body: tags removed, whitespace collapsed, at most `max` characters. */
export function textOfHtml(body: string, max = MAX_REPLY_TEXT): string {
  const end = Math.min(body.length, MAX_EXAMINED);
  let out = '';
  let pendingSpace = false;
  let tagStart = -1;
  const add = (c: string): void => {
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\f' || c === '\v') {
      pendingSpace = out.length > 0;
      return;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += c;
  };
  for (let i = 0; i < end && out.length < max; i += 1) {
    const c = body[i]!;
    if (tagStart >= 0) {
      if (c === '>') {
        tagStart = -1;
        pendingSpace = out.length > 0;
      }
    } else if (c === '<') tagStart = i;
    else add(c);
  }
  // A "<" that never closed was text after all (as in "a < b"): keep what followed it.
  if (tagStart >= 0) for (let i = tagStart; i < end && out.length < max; i += 1) add(body[i]!);
  return out.length > max ? out.slice(0, max) : out;
}

/** A broker's own message, cut to a length a msg, a status and a log line can carry. */
export function clipText(text: string, max = MAX_BROKER_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
