// Totals by category (doughnut chart plus table) and by app (bars).

import { ArcElement, Chart, DoughnutController, Tooltip } from "chart.js";
import { useEffect, useRef } from "react";
import type { Total } from "../bindings/desktop";
import { categoryColor } from "../shared/color";
import { percent, shortDuration } from "../shared/format";
import { useLang, useT } from "./lang";

Chart.register(DoughnutController, ArcElement, Tooltip);

function time(t: Total): number {
  return Math.max(t.worked_ms, t.active_ms);
}

export function CategoryChart(props: { totals: Total[] }) {
  const { lang } = useLang();
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const rows = props.totals.filter((r) => time(r) > 0);
    const chart = new Chart(canvas.current, {
      type: "doughnut",
      data: {
        labels: rows.map((r) => r.key),
        datasets: [
          {
            data: rows.map((r) => Math.round(time(r) / 1000)),
            backgroundColor: rows.map((r) => categoryColor(r.key)),
            borderWidth: 0,
          },
        ],
      },
      options: {
        animation: false,
        responsive: false,
        plugins: {
          tooltip: {
            callbacks: {
              label: (c) => ` ${c.label}: ${shortDuration(Number(c.raw) * 1000, lang)}`,
            },
          },
        },
        cutout: "62%",
      },
    });
    return () => chart.destroy();
  }, [props.totals, lang]);
  return <canvas ref={canvas} width={160} height={160} role="img" aria-label="chart" />;
}

export function Totals(props: {
  title: string;
  /** What the first column names: a category, an app or a day. */
  keyLabel: string;
  totals: Total[];
  colored: boolean;
  testid: string;
}) {
  const t = useT();
  const { lang } = useLang();
  const duration = (ms: number) => shortDuration(ms, lang);
  const max = Math.max(1, ...props.totals.map(time));
  return (
    <section className="card">
      {props.title && <h3>{props.title}</h3>}
      <table className="totals" data-testid={props.testid}>
        <thead>
          <tr>
            <th className="key">{props.keyLabel}</th>
            <td className="bar" />
            <th className="num">{t("colTime")}</th>
            <th className="num" title={t("activity")}>
              {t("colActivity")}
            </th>
          </tr>
        </thead>
        <tbody>
          {props.totals.map((r) => (
            <tr key={r.key} data-key={r.key}>
              <td className="key">
                {props.colored && (
                  <span className="swatch" style={{ background: categoryColor(r.key) }} />
                )}
                {r.key || "—"}
              </td>
              <td className="bar">
                <span style={{ width: `${(time(r) / max) * 100}%` }} />
              </td>
              <td
                className="num"
                title={`${t("worked")} ${duration(r.worked_ms)} · ${t("active")} ${duration(r.active_ms)} · ${t("idle")} ${duration(r.idle_ms)}`}
              >
                {duration(Math.max(r.worked_ms, r.active_ms))}
              </td>
              <td className="num muted" title={t("activity")}>
                {percent(r.active_ms > 0 ? r.input_ms / r.active_ms : 0, lang)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
