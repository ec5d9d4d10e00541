import { describe, expect, it } from "vitest";
import type { DecisionRow, SessionRow } from "../bindings/server";
import { dayStart } from "../shared/day";
import { toAppError } from "../shared/error";
import { parsePolicyText } from "./admin_policy";
import { Api, ApiFailure, csrfFromCookie, requestOf } from "./api";
import { exportEventOf } from "./event";
import { activeShare } from "./figures";
import { dictionaries } from "./i18n";
import { parseRoute, type Route, routeHref } from "./route";
import { colourByCategory, dayWindow, hourTicks, layoutTimeline } from "./timeline";

const H = 3_600_000;

describe("figures", () => {
  it("keeps shares within 0..1 and reads nothing clocked as zero", () => {
    expect(activeShare(3 * H, 4 * H)).toBe(0.75);
    expect(activeShare(5, 0)).toBe(0);
    expect(activeShare(5 * H, 4 * H)).toBe(1);
  });
  it("takes from an alert's event only the fields that have their type", () => {
    expect(exportEventOf({ file_name: "clients.xlsx", size_bytes: "big", count: 3 })).toEqual({
      file_name: "clients.xlsx",
      count: 3,
    });
    expect(exportEventOf({})).toEqual({});
  });
});

describe("timeline layout", () => {
  const day = dayStart("2025-03-03");
  const session = (start: number, end: number | null): SessionRow => ({
    user_id: 1,
    device_id: 1,
    day: "2025-03-03",
    start: day + start,
    end: end === null ? null : day + end,
    clock_out_reason: null,
  });
  const idle = (start: number, end: number, choice: string): DecisionRow => ({
    user_id: 1,
    day: "2025-03-03",
    idle_start: day + start,
    idle_end: day + end,
    choice,
    source: "user",
    decided_at: day + end,
  });

  it("shows office hours when nothing happened, widened to whole hours around sessions", () => {
    expect(dayWindow(day, [], day)).toEqual({ start: day + 8 * H, end: day + 18 * H });
    const w = dayWindow(day, [session(7.5 * H, 19.2 * H)], day);
    expect(w).toEqual({ start: day + 7 * H, end: day + 20 * H });
  });

  it("cuts idle gaps out of work bars and labels them with the decision", () => {
    const w = { start: day + 8 * H, end: day + 18 * H };
    const segs = layoutTimeline(
      w,
      [session(9 * H, 12 * H)],
      [idle(10 * H, 10.5 * H, "meeting")],
      0,
    );
    expect(segs.map((s) => [s.kind, s.left, s.width, s.choice])).toEqual([
      ["work", 10, 10, undefined],
      ["idle", 20, 5, "meeting"],
      ["work", 25, 15, undefined],
    ]);
  });

  it("never draws time twice when two PCs report overlapping sessions", () => {
    const w = { start: day + 8 * H, end: day + 18 * H };
    const segs = layoutTimeline(w, [session(9 * H, 11 * H), session(10 * H, 12 * H)], [], 0);
    expect(segs).toHaveLength(1);
    expect(segs[0]?.width).toBe(30);
    const total = segs.reduce((s, x) => s + x.width, 0);
    expect(total).toBeLessThanOrEqual(100);
  });

  it("draws an open session up to now and drops what lies outside the window", () => {
    const w = { start: day + 8 * H, end: day + 18 * H };
    const segs = layoutTimeline(
      w,
      [session(6 * H, 9 * H), session(17 * H, null)],
      [idle(2 * H, 3 * H, "keep")],
      day + 20 * H,
    );
    expect(segs.map((s) => [s.left, s.width, s.open ?? false])).toEqual([
      [0, 10, false],
      [90, 10, true],
    ]);
  });

  it("splits each hour of work among that hour's categories, by active time", () => {
    const w = { start: day + 8 * H, end: day + 18 * H };
    const work = layoutTimeline(
      w,
      [session(9 * H, 11 * H)],
      [idle(10.5 * H, 10.75 * H, "break")],
      0,
    );
    const hours = [
      { hour: 9, category: "Email", active_ms: 40 * 60_000, idle_ms: 0 },
      { hour: 9, category: "Code", active_ms: 20 * 60_000, idle_ms: 0 },
      { hour: 12, category: "Code", active_ms: 60 * 60_000, idle_ms: 0 },
    ];
    const segs = colourByCategory(w, work, hours, (h) => day + h * H);
    expect(
      segs.map((s) => [s.kind, (s.start - day) / 60_000, (s.end - day) / 60_000, s.category]),
    ).toEqual([
      ["work", 540, 560, "Code"],
      ["work", 560, 600, "Email"],
      ["work", 600, 630, undefined],
      ["idle", 630, 645, undefined],
      ["work", 645, 660, undefined],
    ]);
    const covered = segs.reduce((s, x) => s + (x.end - x.start), 0);
    expect(covered).toBe(2 * H);
  });

  it("keeps one slice for one category across an hour boundary", () => {
    const w = { start: day + 8 * H, end: day + 18 * H };
    const work = layoutTimeline(w, [session(9 * H, 11 * H)], [], 0);
    const code = (hour: number) => ({ hour, category: "Code", active_ms: H, idle_ms: 0 });
    const segs = colourByCategory(w, work, [code(9), code(10)], (h) => day + h * H);
    expect(segs.map((s) => [s.left, s.width, s.category])).toEqual([[10, 20, "Code"]]);
  });

  it("puts hour ticks at both ends", () => {
    const ticks = hourTicks({ start: day + 8 * H, end: day + 10 * H });
    expect(ticks.map((t) => t.left)).toEqual([0, 50, 100]);
  });
});

describe("routes", () => {
  it("round-trips every page through its address", () => {
    const routes: Route[] = [
      { page: "home" },
      { page: "login" },
      { page: "team", team: 4, day: null },
      { page: "team", team: 4, day: "2025-03-03" },
      { page: "trends", team: 4, from: "2025-03-01", to: "2025-03-07" },
      { page: "trends", team: null, from: null, to: null },
      { page: "person", person: 7, day: "2025-03-03" },
      { page: "alerts" },
      { page: "admin", section: "audit" },
      { page: "account" },
      { page: "resetPassword" },
    ];
    for (const r of routes) {
      const href = routeHref(r);
      const [path, search] = href.split("?");
      expect(parseRoute(path ?? "", search ? `?${search}` : "")).toEqual(r);
    }
  });
  it("treats malformed ids and days as not found, not as some other page", () => {
    expect(parseRoute("/people/abc/days/2025-03-03").page).toBe("notFound");
    expect(parseRoute("/people/7/days/03-03-2025").page).toBe("notFound");
    expect(parseRoute("/teams/0").page).toBe("notFound");
    expect(parseRoute("/admin/secret").page).toBe("notFound");
    expect(parseRoute("/teams/4", "?day=yesterday")).toEqual({ page: "team", team: 4, day: null });
  });
});

describe("API client", () => {
  const reply =
    (status: number, body: string, seen?: RequestInit[]) =>
    async (_url: string, init?: RequestInit) => {
      seen?.push(init ?? {});
      return new Response(status === 204 ? null : body, { status, statusText: "X" });
    };

  it("shows the server's message and keeps its code", async () => {
    const api = new Api(
      reply(
        404,
        '{"error":{"code":"not_found","message":"there is no person 9 that you can see"}}',
      ),
    );
    const e = await api.personDay(9, "2025-03-03").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiFailure);
    expect(toAppError(e)).toEqual({
      code: "not_found",
      message: "there is no person 9 that you can see",
    });
  });

  it("turns a non-JSON error page into a message with the status", async () => {
    const api = new Api(reply(502, "<html>Bad gateway</html>"));
    const e = toAppError(await api.teams().catch((x: unknown) => x));
    expect(e.code, "a code of its own, not the status").toBe("bad_answer");
    expect(e.message).toContain("502");
  });

  it("reports an unreachable server as a network error, not a crash", async () => {
    const api = new Api(async () => {
      throw new TypeError("Failed to fetch");
    });
    const e = toAppError(await api.me().catch((x: unknown) => x));
    expect(e.code).toBe("network");
    expect(e.message).toContain("Failed to fetch");
  });

  it("sends the CSRF token on changes (from the cookie, then from the login) and never on reads", async () => {
    expect(csrfFromCookie("a=1; worktrace_csrf=abc%3D; b=2")).toBe("abc=");
    expect(csrfFromCookie("a=1")).toBeNull();
    const seen: RequestInit[] = [];
    const api = new Api(reply(200, '{"user":{},"csrf_token":"fresh"}', seen), "worktrace_csrf=old");
    await api.acknowledge(1);
    await api.login("a@b", "pw");
    await api.acknowledge(2);
    await api.teams();
    const csrf = seen.map((i) => (i.headers as Record<string, string>)["x-csrf-token"]);
    expect(csrf).toEqual(["old", "old", "fresh", undefined]);
  });

  it("fills in path parameters and the query of an operation", () => {
    expect(
      requestOf("GET /api/teams/{team_id}/trends", { team_id: 4 }, { from: "2025-03-01" }),
    ).toEqual({
      method: "GET",
      path: "/api/teams/4/trends?from=2025-03-01",
    });
    expect(requestOf("GET /api/people/{user_id}/days/{day}", { user_id: 7, day: "a/b" }).path).toBe(
      "/api/people/7/days/a%2Fb",
    );
    expect(() => requestOf("GET /api/teams/{team_id}/now")).toThrow("team_id");
  });

  it("reads 204 answers as nothing", async () => {
    const api = new Api(reply(204, ""));
    await expect(api.revokeDevice(3)).resolves.toBeUndefined();
  });
});

describe("policy editor and languages", () => {
  it("accepts only a JSON object", () => {
    expect(parsePolicyText('{"idle_threshold_secs": 300}')).toEqual({
      ok: true,
      value: { idle_threshold_secs: 300 },
    });
    expect(parsePolicyText("[1]")).toEqual({ ok: false, error: "not_object" });
    const bad = parsePolicyText("{idle: 3");
    expect(bad.ok).toBe(false);
  });
  it("has every Russian string filled in and with the same placeholders", () => {
    const forms = (v: string | Record<string, string>) =>
      typeof v === "string" ? [v] : Object.values(v);
    const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, en] of Object.entries(dictionaries.en)) {
      const ru = dictionaries.ru[key as keyof typeof dictionaries.en];
      const enHoles = holes(forms(en)[0] ?? "");
      for (const form of forms(ru)) {
        expect(form.trim(), key).not.toBe("");
        expect(holes(form), key).toEqual(enHoles);
      }
    }
  });
});
