// The colour of a category, the same in the desktop app and on the dashboard, so "Work > Email"
// looks alike wherever a person and their lead see it. Pure.

/**
 * A stable colour per category name: the name's hash picks a hue; saturation and lightness
 * are fixed at values readable on the light and the dark theme.
 * categoryColor("Work > Email") → "hsl(43 62% 52%)", every time and in both front ends.
 */
export function categoryColor(category: string): string {
  let h = 0;
  for (const ch of category) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return `hsl(${h} 62% 52%)`;
}
