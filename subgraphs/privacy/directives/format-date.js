// @formatDate(pattern: String!, tz: String = "UTC"): formats a date-time for display.
// Runs in the gateway's sandbox (QuickJS), which has no Intl: time zones and month names
// are implemented here. Zones: UTC, fixed offsets (+02:00, -0530, +5), and named zones
// with their current daylight-saving rules (EU, US, southern Australia, New Zealand) or
// fixed offsets. Names: the request's locale (context.locale) among en, fr, de, es.

const NAMES = {
  en: {
    months: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    days: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    am: 'AM',
    pm: 'PM',
  },
  fr: {
    months: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    days: ['dimanche', 'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi'],
    am: 'AM',
    pm: 'PM',
  },
  de: {
    months: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
    days: ['Sonntag', 'Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag'],
    am: 'AM',
    pm: 'PM',
  },
  es: {
    months: ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'],
    days: ['domingo', 'lunes', 'martes', 'miércoles', 'jueves', 'viernes', 'sábado'],
    am: 'a. m.',
    pm: 'p. m.',
  },
};

const HOUR = 3600000;
const DAY = 24 * HOUR;

/** UTC time of the nth (1-based; -1 = last) Sunday of a month, at `hour` UTC. */
function sunday(year, month, nth, hour) {
  if (nth === -1) {
    const last = Date.UTC(year, month + 1, 0);
    return last - new Date(last).getUTCDay() * DAY + hour * HOUR;
  }
  const first = Date.UTC(year, month, 1);
  const offset = (7 - new Date(first).getUTCDay()) % 7;
  return first + (offset + (nth - 1) * 7) * DAY + hour * HOUR;
}

// Daylight-saving rules: [start, end) of summer time in a year, as UTC times (cached per year).
const RULES = {
  // EU: last Sunday of March to last Sunday of October, 01:00 UTC.
  eu: (year) => [sunday(year, 2, -1, 1), sunday(year, 9, -1, 1)],
  // US: second Sunday of March 02:00 local standard time to first Sunday of November 02:00 local daylight time.
  us: (year, standard) => [sunday(year, 2, 2, 2 - standard / 60), sunday(year, 10, 1, 2 - (standard + 60) / 60)],
  // South-east Australia (southern summer): first Sunday of October 02:00 standard, until first Sunday of April 03:00 daylight.
  au: (year, standard) => [sunday(year, 9, 1, 2 - standard / 60), sunday(year, 3, 1, 3 - (standard + 60) / 60)],
  // New Zealand: last Sunday of September 02:00 standard, until first Sunday of April 03:00 daylight.
  nz: (year, standard) => [sunday(year, 8, -1, 2 - standard / 60), sunday(year, 3, 1, 3 - (standard + 60) / 60)],
};
const SOUTHERN = new Set(['au', 'nz']);
const transitions = new Map();

function zoneOffset(standard, rule, t) {
  if (!rule) return standard;
  const year = new Date(t).getUTCFullYear();
  const key = `${rule}${standard}:${year}`;
  let range = transitions.get(key);
  if (!range) {
    range = RULES[rule](year, standard);
    transitions.set(key, range);
  }
  const summer = SOUTHERN.has(rule) ? t >= range[0] || t < range[1] : t >= range[0] && t < range[1];
  return summer ? standard + 60 : standard;
}

const fixed = (minutes) => [minutes, null];
const eu = (standard) => [standard, 'eu'];
const us = (standard) => [standard, 'us'];
const au = (standard) => [standard, 'au'];
const nz = (standard) => [standard, 'nz'];

const ZONES = {
  UTC: fixed(0), GMT: fixed(0), 'Etc/UTC': fixed(0),
  'Europe/London': eu(0), 'Europe/Dublin': eu(0), 'Europe/Lisbon': eu(0),
  'Europe/Paris': eu(60), 'Europe/Berlin': eu(60), 'Europe/Madrid': eu(60), 'Europe/Rome': eu(60), 'Europe/Amsterdam': eu(60),
  'Europe/Brussels': eu(60), 'Europe/Vienna': eu(60), 'Europe/Zurich': eu(60), 'Europe/Stockholm': eu(60), 'Europe/Oslo': eu(60),
  'Europe/Copenhagen': eu(60), 'Europe/Warsaw': eu(60), 'Europe/Prague': eu(60), 'Europe/Budapest': eu(60), 'Europe/Luxembourg': eu(60),
  'Europe/Athens': eu(120), 'Europe/Helsinki': eu(120), 'Europe/Kyiv': eu(120), 'Europe/Bucharest': eu(120), 'Europe/Sofia': eu(120),
  'Europe/Riga': eu(120), 'Europe/Vilnius': eu(120), 'Europe/Tallinn': eu(120),
  'Europe/Istanbul': fixed(180), 'Europe/Moscow': fixed(180),
  'America/New_York': us(-300), 'America/Toronto': us(-300), 'America/Chicago': us(-360), 'America/Denver': us(-420),
  'America/Phoenix': fixed(-420), 'America/Los_Angeles': us(-480), 'America/Vancouver': us(-480), 'America/Anchorage': us(-540),
  'Pacific/Honolulu': fixed(-600), 'America/Mexico_City': fixed(-360), 'America/Bogota': fixed(-300), 'America/Lima': fixed(-300),
  'America/Sao_Paulo': fixed(-180), 'America/Argentina/Buenos_Aires': fixed(-180),
  'Africa/Lagos': fixed(60), 'Africa/Johannesburg': fixed(120), 'Africa/Nairobi': fixed(180),
  'Asia/Dubai': fixed(240), 'Asia/Karachi': fixed(300), 'Asia/Kolkata': fixed(330), 'Asia/Dhaka': fixed(360), 'Asia/Bangkok': fixed(420),
  'Asia/Jakarta': fixed(420), 'Asia/Shanghai': fixed(480), 'Asia/Hong_Kong': fixed(480), 'Asia/Singapore': fixed(480),
  'Asia/Taipei': fixed(480), 'Australia/Perth': fixed(480), 'Asia/Seoul': fixed(540), 'Asia/Tokyo': fixed(540),
  'Australia/Brisbane': fixed(600), 'Australia/Sydney': au(600), 'Australia/Melbourne': au(600), 'Australia/Hobart': au(600),
  'Pacific/Auckland': nz(720),
};

const OFFSET = /^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$/;

function offsetMinutes(tz, t) {
  const zone = Object.hasOwn(ZONES, tz) ? ZONES[tz] : undefined;
  if (zone) return zoneOffset(zone[0], zone[1], t);
  const match = OFFSET.exec(tz);
  if (!match) throw new RangeError(`unknown time zone "${String(tz).slice(0, 40)}": use UTC, an offset such as +02:00, or a supported zone name`);
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  if (minutes > 14 * 60) throw new RangeError('a time-zone offset is at most 14 hours');
  return match[1] === '-' ? -minutes : minutes;
}

const pad = (n, width) => String(n).padStart(width, '0');

function zoneText(minutes, style) {
  if (minutes === 0 && style !== 'Z') return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const h = pad(Math.floor(Math.abs(minutes) / 60), 2);
  const m = pad(Math.abs(minutes) % 60, 2);
  if (style === 'X') return m === '00' ? sign + h : sign + h + m;
  if (style === 'XX') return sign + h + m;
  return `${sign}${h}:${m}`;
}

const TOKEN = /'(?:[^']|'')*'|y+|M+|d+|E+|H+|h+|m+|s+|S+|a|X+/g;
const compiled = new Map();

/** The pattern as a list of literal strings and tokens, once per pattern. */
function compile(pattern) {
  let parts = compiled.get(pattern);
  if (parts) return parts;
  parts = [];
  let last = 0;
  for (const match of pattern.matchAll(TOKEN)) {
    if (match.index > last) parts.push({ literal: pattern.slice(last, match.index) });
    const token = match[0];
    if (token[0] === "'") parts.push({ literal: token.length === 2 ? "'" : token.slice(1, -1).replaceAll("''", "'") });
    else parts.push({ token });
    last = match.index + token.length;
  }
  if (last < pattern.length) parts.push({ literal: pattern.slice(last) });
  compiled.set(pattern, parts);
  return parts;
}

function field(token, local, minutes, names) {
  switch (token[0]) {
    case 'y': {
      const year = local.getUTCFullYear();
      return token.length === 2 ? pad(year % 100, 2) : pad(year, token.length);
    }
    case 'M': {
      const month = local.getUTCMonth();
      if (token.length >= 4) return names.months[month];
      if (token.length === 3) return names.months[month].slice(0, 3);
      return pad(month + 1, token.length);
    }
    case 'd':
      return pad(local.getUTCDate(), token.length);
    case 'E':
      return token.length >= 4 ? names.days[local.getUTCDay()] : names.days[local.getUTCDay()].slice(0, 3);
    case 'H':
      return pad(local.getUTCHours(), token.length);
    case 'h': {
      const hours = local.getUTCHours() % 12;
      return pad(hours === 0 ? 12 : hours, token.length);
    }
    case 'm':
      return pad(local.getUTCMinutes(), token.length);
    case 's':
      return pad(local.getUTCSeconds(), token.length);
    case 'S':
      return pad(local.getUTCMilliseconds(), 3).slice(0, token.length);
    case 'a':
      return local.getUTCHours() < 12 ? names.am : names.pm;
    default: // X
      return zoneText(minutes, token.slice(0, 3));
  }
}

export function transform(value, args, context) {
  const pattern = args.pattern;
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 100) throw new RangeError('pattern must be 1 to 100 characters');
  const time = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(time)) throw new RangeError('the value is not an ISO 8601 date-time or epoch milliseconds');
  const minutes = offsetMinutes(args.tz ?? 'UTC', time);
  const local = new Date(time + minutes * 60000);
  const language = typeof context.locale === 'string' ? context.locale.slice(0, 2).toLowerCase() : 'en';
  const names = Object.hasOwn(NAMES, language) ? NAMES[language] : NAMES.en;
  let text = '';
  for (const part of compile(pattern)) text += part.literal ?? field(part.token, local, minutes, names);
  return text;
}
