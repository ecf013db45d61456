// The registry's "now". Real time unless the app is given another clock: tests move one forward to show a
// rule on both sides of a moment (a grant that starts tomorrow gives nothing today and everything tomorrow).
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
