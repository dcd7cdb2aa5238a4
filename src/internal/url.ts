/**
 * A URL as messages may show it: scheme, host, port and path, without user info, query or fragment (any of which
 * can carry a credential).
 *
 * @internal
 */
export const display = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`
  } catch {
    return "(invalid URL)"
  }
}
