import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SettingsView, Status } from "../bindings/desktop";
import type { AppError } from "../shared/error";

// The Tauri side replaced by fakes: the window's label and each command's answer.
const window = vi.hoisted(() => ({ label: "main" }));
vi.mock("@tauri-apps/api/window", () => ({ getCurrentWindow: () => window }));
const fake = vi.hoisted(() => ({
  settings: vi.fn<() => Promise<unknown>>(),
  acceptConsent: vi.fn<() => Promise<null>>(),
}));
vi.mock("./api", () => ({
  api: {
    settings: fake.settings,
    acceptConsent: fake.acceptConsent,
    status: () => new Promise<Status>(() => {}),
    today: () => new Promise(() => {}),
  },
  onStatus: async () => () => {},
}));

import { App } from "./App";

function settings(consent: boolean): SettingsView {
  return {
    prefs: {
      consent_given: consent,
      language: null,
      autostart: false,
      idle_threshold_secs: null,
    },
    language: "en",
    idle_threshold_secs: 300,
    idle_threshold_editable: true,
    server_url: null,
    enrolled: false,
    data_dir: "/tmp/worktrace",
    autostart_active: false,
    version: "0.1.0",
  };
}

beforeEach(() => {
  window.label = "main";
  fake.settings.mockReset();
  fake.acceptConsent.mockReset();
  localStorage.clear();
});
afterEach(cleanup);

describe("desktop shell", () => {
  it("shows why the settings cannot be read, instead of skipping the consent screen", async () => {
    const failure: AppError = { code: "store", message: "the local database: disk I/O error" };
    fake.settings.mockRejectedValueOnce(failure).mockResolvedValueOnce(settings(false));
    render(<App />);
    const shown = await screen.findByTestId("settings-error");
    expect(shown.textContent).toContain("the local database: disk I/O error");
    expect(shown.querySelector("[data-code]")?.getAttribute("data-code")).toBe("store");
    expect(screen.queryByTestId("nav-today"), "the main window stays closed").toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("consent")).toBeTruthy();
    expect(fake.settings).toHaveBeenCalledTimes(2);
  });

  it("opens the main window only after consent is given, and shows a failed acceptance", async () => {
    fake.settings.mockResolvedValue(settings(false));
    fake.acceptConsent
      .mockRejectedValueOnce({ code: "io", message: "prefs.json: read-only file system" })
      .mockResolvedValueOnce(null);
    render(<App />);
    fireEvent.click(await screen.findByTestId("consent-accept"));
    expect((await screen.findByText("prefs.json: read-only file system")).dataset.code).toBe("io");
    expect(screen.queryByTestId("nav-today")).toBeNull();
    fake.settings.mockResolvedValue(settings(true));
    fireEvent.click(screen.getByTestId("consent-accept"));
    expect(await screen.findByTestId("nav-today")).toBeTruthy();
  });

  it("speaks the language of the settings", async () => {
    fake.settings.mockResolvedValue({ ...settings(true), language: "ru" });
    render(<App />);
    expect((await screen.findByTestId("nav-today")).textContent).toBe("Сегодня");
  });
});
