// Validation of shared-record values, per data category. A value must be a non-empty string of bounded
// length; categories with a recognisable form are checked against it (an e-mail is an e-mail, a card
// number passes the Luhn check, an IP address parses), so malformed personal data never enters the registry.
import { isIP } from 'node:net';

const MAX_VALUE_LENGTH = 2000;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const CHECKS: Record<string, (v: string) => string | undefined> = {
  'contact.email': (v) => (EMAIL.test(v) && v.length <= 254 ? undefined : 'must be an e-mail address'),
  'financial.payment_card': (v) => {
    const digits = v.replace(/[\s-]/g, '');
    return /^\d{12,19}$/.test(digits) && luhn(digits)
      ? undefined
      : 'must be a card number (12–19 digits, valid check digit)';
  },
  'usage.ip_address': (v) => (isIP(v) ? undefined : 'must be an IPv4 or IPv6 address'),
  'contact.phone': (v) => (/^\+?[\d\s().-]{5,32}$/.test(v) ? undefined : 'must be a phone number'),
};

/** Returns why `value` is not valid for `category`, or undefined when it is. */
export function valueProblem(category: string, value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (!value.trim()) return 'must not be empty';
  if (value.length > MAX_VALUE_LENGTH) return `must be at most ${MAX_VALUE_LENGTH} characters`;
  return CHECKS[category]?.(value);
}
