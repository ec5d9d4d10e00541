import { render, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Total } from "../bindings/desktop";
import { Totals } from "./Breakdown";
import { LangContext } from "./lang";

const totals: Total[] = [
  { key: "xterm", active_ms: 3_600_000, idle_ms: 0, worked_ms: 3_600_000, input_ms: 1_800_000 },
  { key: "mail", active_ms: 1_800_000, idle_ms: 60_000, worked_ms: 1_860_000, input_ms: 0 },
];

function shown(lang: "en" | "ru", keyLabel: string) {
  const { container } = render(
    <LangContext.Provider value={{ lang, setLang: () => {} }}>
      <Totals title="" keyLabel={keyLabel} totals={totals} colored={false} testid="totals-app" />
    </LangContext.Provider>,
  );
  const table = within(container).getByTestId("totals-app");
  const header = within(table)
    .getAllByRole("columnheader")
    .map((th) => th.textContent);
  const rows = table.querySelectorAll("tbody tr");
  return { header, rows: Array.from(rows).map((r) => r.getAttribute("data-key")) };
}

describe("totals table", () => {
  it("names its columns and keeps one row per key", () => {
    const { header, rows } = shown("en", "App");
    // The bar column has no header of its own.
    expect(header).toEqual(["App", "Time", "Activity"]);
    expect(rows).toEqual(["xterm", "mail"]);
  });

  it("names its columns in Russian too", () => {
    const { header } = shown("ru", "Приложение");
    expect(header).toEqual(["Приложение", "Время", "Активность"]);
  });
});
