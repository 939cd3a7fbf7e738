/**
 * A sparkline as inline SVG: drawn by the server, so a card needs no script to show its trend. It
 * spans its values' own range (a trend, not a scale); a range too small to matter is a flat line.
 */
export function Sparkline(props: { values: readonly (number | null)[]; label: string; text: string }) {
  const points = props.values.map((value, i) => [i, value] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  const width = 100;
  const height = 30;
  const values = points.map(([, v]) => v);
  const max = Math.max(...values, 0);
  const min = Math.min(...values, max);
  const flat = max - min <= Math.abs(max) * 0.02;
  const span = Math.max(props.values.length - 1, 1);
  const y = (v: number): number => (flat ? height / 2 : height - 2 - ((v - min) / (max - min)) * (height - 4));
  const path = points.map(([i, v]) => `${((i / span) * width).toFixed(1)},${y(v).toFixed(1)}`);
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
