// The JSON Schema `format`s Tributary asserts. 2020-12 leaves assertion to the implementation; Snowplow's
// Iglu validation asserts them, and tracking schemas lean on them for ids and addresses. Every check here
// is linear in the text: no regular expression with nested repetition.
import { isIPv4, isIPv6 } from 'node:net';
import { parseTimestamp } from '../time.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;
// RFC 5322's dot-atom characters, as Ajv's `email` format takes them
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/i;
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
// RFC 3986's characters. Others (spaces, quotes, braces, non-ASCII: an IRI's) are not a URI's, and the
// URL parser turns non-ASCII host labels into punycode in time quadratic in a label's length (a 960 KB
// host took 9 s), so they are refused before it runs.
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
// A `%` not followed by two hex digits: RFC 3986's pct-encoded is exactly three characters.
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
// The authority of a hierarchical URI: after `scheme://`, up to the path, query or fragment.
const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;
const PORT = /^(?::\d*)?$/;
const DATE_AND_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]/;

/**
 * RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens, 253 characters at most,
 * and a trailing dot for a fully qualified name (`example.com.`, as browsers report it when typed so).
 */
const isHostname = (s: string): boolean => {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
};

/**
 * RFC 3986 allows `[` and `]` only around an IP-literal host (`http://[::1]:8080/`). The WHATWG parser
 * also reads them in paths, queries and user info (`https://[@example.org`), which no URI has.
 */
function bracketsInPlace(s: string): boolean {
  const open = s.indexOf('[');
  const close = s.indexOf(']');
  if (open < 0 && close < 0) return true;
  if (open !== s.lastIndexOf('[') || close !== s.lastIndexOf(']') || open < 0 || close < open) return false;
  const m = AUTHORITY.exec(s);
  if (m === null) return false;
  const authority = m[1]!;
  const start = m[0].length - authority.length;
  const host = start + authority.lastIndexOf('@') + 1;
  return open === host && isIPv6(s.slice(open + 1, close)) && PORT.test(s.slice(close + 1, start + authority.length));
}

/**
 * Each asserted format's check. Other formats (`uri-reference`, `idn-email`, custom ones) stay annotations.
 * `date-time` and `date` read text as the timestamp and date column types do (a missing zone is UTC);
 * on a property of its own they are its column type, so this is for strings inside objects and arrays.
 */
export const FORMATS: Readonly<Record<string, (s: string) => boolean>> = {
  uuid: (s) => UUID.test(s),
  email: (s) => {
    const at = s.lastIndexOf('@');
    return at > 0 && at <= 64 && LOCAL_PART.test(s.slice(0, at)) && !s.endsWith('.') && isHostname(s.slice(at + 1));
  },
  hostname: isHostname,
  ipv4: isIPv4,
  ipv6: isIPv6,
  // An absolute URI: a scheme, RFC 3986's characters only, and one the WHATWG URL parser reads.
  // Percent-encodings and brackets are held to RFC 3986, which the URL parser is lenient about.
  uri: (s) => SCHEME.test(s) && URI_CHARACTERS.test(s) && !BAD_PERCENT.test(s) && bracketsInPlace(s) && URL.canParse(s),
  'date-time': (s) => DATE_AND_TIME.test(s) && parseTimestamp(s) !== undefined,
  date: (s) => DATE.test(s) && parseTimestamp(`${s}T00:00:00Z`) !== undefined,
};

export const isAssertedFormat = (format: unknown): format is string => typeof format === 'string' && Object.hasOwn(FORMATS, format);
