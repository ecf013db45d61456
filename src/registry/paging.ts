// Page sizes of every list: what a page holds when the caller does not say, and the most it may hold.
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
