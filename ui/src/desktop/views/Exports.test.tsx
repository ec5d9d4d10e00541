import { cleanup, render, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { ExportsView } from "../../bindings/desktop";
import type { ExportEvent } from "../../bindings/domain";
import { LangContext } from "../lang";
import { ExportList } from "./Exports";

afterEach(cleanup);

function event(over: Partial<ExportEvent>): ExportEvent {
  return {
    at: Date.UTC(2026, 11, 8, 9, 30),
    export_kind: "file_to_removable",
    severity: "high",
    app_before: "nautilus",
    file_name: "backup.zip",
    path: "/media/anna/KINGSTON/backup.zip",
    size_bytes: 2048,
    destination_class: "removable",
    count: 1,
    details: {},
    ...over,
  };
}

function shown(lang: "en" | "ru", events: ExportEvent[]) {
  const view: ExportsView = { enabled: true, since: 0, events };
  const { container } = render(
    <LangContext.Provider value={{ lang, setLang: () => {} }}>
      <ExportList view={view} />
    </LangContext.Provider>,
  );
  return within(container);
}

describe("the desktop's export list", () => {
  it("tells where a file came from and shows every detail recorded, its path too", () => {
    const list = shown("en", [
      event({
        details: {
          client_source: "Bitrix24",
          origin_domain: "acme.bitrix24.ru",
          rows: 1240,
          columns: 6,
          lineage: ["CONTACT_1.csv", "clients.csv", "clients.zip", "backup.zip"],
          label: "KINGSTON",
        },
      }),
    ]);
    expect(list.getByTestId("export-provenance").textContent).toBe(
      "from Bitrix24 · downloaded from acme.bitrix24.ru · 1,240 rows × 6 columns · " +
        "CONTACT_1.csv → clients.csv → clients.zip → backup.zip",
    );
    const details = list.getByTestId("export-details");
    const keys = Array.from(details.querySelectorAll("dt")).map((d) => d.textContent);
    expect(keys).toEqual([
      "path",
      "client_source",
      "origin_domain",
      "rows",
      "columns",
      "lineage",
      "label",
    ]);
    const values = Array.from(details.querySelectorAll("dd")).map((d) => d.textContent);
    expect(values[0]).toBe("/media/anna/KINGSTON/backup.zip");
    expect(values[5]).toBe('["CONTACT_1.csv","clients.csv","clients.zip","backup.zip"]');
  });

  it("says nothing of provenance an event does not have", () => {
    const list = shown("ru", [event({ path: null, details: { label: "KINGSTON" } })]);
    expect(list.queryByTestId("export-provenance")).toBeNull();
    expect(list.getByTestId("export-details").querySelector("summary")?.textContent).toBe(
      "Всё записанное",
    );
    expect(list.getByRole("columnheader", { name: "Что известно" })).toBeTruthy();
  });

  it("counts rows alone when no columns are known, in Russian too", () => {
    const list = shown("ru", [event({ details: { rows: 3, cloud_service: "Yandex.Disk" } })]);
    expect(list.getByTestId("export-provenance").textContent).toBe("строк: 3 · в Yandex.Disk");
  });
});
