// The check every options object goes through for keys Zart does not know (a typo, an option of
// another version): each one is a problem that names the known options.

/** @internal Adds one problem per key of `value` that is not in `known`. */
export function unknownKeys(value: object, known: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.push(`Unknown option "${key}" in ${where}; known options: ${known.join(', ')}.`);
  }
}
