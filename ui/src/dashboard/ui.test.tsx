import { cleanup, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { fakeServer, renderPage } from "./testing";
import { Loaded } from "./ui";

afterEach(cleanup);

describe("a failed read", () => {
  const show = (code: string, message: string) =>
    renderPage(
      <Loaded load={{ status: "error", error: { code, message } }}>{() => "the page"}</Loaded>,
      { fetcher: fakeServer({}).fetcher },
    );

  it("is a page-level 'not found' or 'not allowed' by its code, with the server's words", () => {
    show("not_found", "there is no person 9 that you can see");
    const page = screen.getByTestId("not-found");
    expect(page.textContent).toContain("Not found");
    expect(page.textContent).toContain("there is no person 9 that you can see");
    cleanup();
    show("forbidden", "only team leads and administrators can use the dashboard");
    expect(screen.getByTestId("not-found").textContent).toContain("Not allowed");
  });

  it("is an error box for any other code, even one whose text says 'not found'", () => {
    show("internal", "not found: the server failed; it has been logged");
    expect(screen.queryByTestId("not-found")).toBeNull();
    expect(screen.getByRole("alert").dataset.code).toBe("internal");
  });
});
