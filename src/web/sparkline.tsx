/** A sparkline as inline SVG: drawn by the server, so a card needs no script to show its trend. */
export function Sparkline(props: { values: readonly (number | null)[]; label: string; text: string }) {
  const points = props.values.map((value, i) => [i, value] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const width = 100;
  const height = 30;
  const max = Math.max(...points.map(([, v]) => v), 0);
  const span = Math.max(props.values.length - 1, 1);
  const path = points.map(
    ([i, v]) => `${((i / span) * width).toFixed(1)},${(height - 2 - (max === 0 ? 0 : (v / max) * (height - 4))).toFixed(1)}`,
  );
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" role="img" aria-label={`${props.label}: ${props.text}`}>
        {path.length > 1 ? <polyline points={path.join(' ')} /> : null}
      </svg>
      <figcaption>
        {props.label} {props.text}
      </figcaption>
    </figure>
  );
}
