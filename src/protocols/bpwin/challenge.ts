/**
 * The /auth challenge is a 64-bit integer (`{ "Number" : 7241978785468376164 }`), larger than
 * 2^53: JSON.parse would round it and every later call would get 403. The digits are taken from
 * the raw text and kept as a string.
 */
const CHALLENGE = /"Number"\s*:\s*"?(-?\d+)"?/;

export function extractChallenge(text: string): string | undefined {
  return CHALLENGE.exec(text)?.[1];
}
