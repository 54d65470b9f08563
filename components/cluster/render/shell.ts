// Shell quoting for the rendered scripts. Pure.

/** Shell single-quoting: safe for any value. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
