// End-to-end walk through the team-lead dashboard in headless Chromium, against a running
// worktrace-server seeded by crates/server/tests/dashboard_e2e.rs (which passes everything
// below in the environment and checks this script's exit code).
//
// As the team lead: log in, see the own team, fail to reach another team's person by URL
// (the page says not found and shows nothing of theirs), open a person's day, the trends,
// download the timesheet CSV and check it, fetch the PDF, acknowledge an alert, mark the own
// person as leaving and read the departure report. As the admin:
// the audit log. Screenshots go to $SCREENSHOT_DIR/dashboard-*.png. Any failed check exits 1.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}: run this through the Rust test`);
    process.exit(2);
  }
  return v;
}

const BASE = env("BASE_URL");
const PASSWORD = env("PASSWORD");
const LEAD = env("LEAD_EMAIL");
const ADMIN = env("ADMIN_EMAIL");
const TEAM = env("TEAM_ID");
const TEAM_NAME = env("TEAM_NAME");
const OWN_ID = env("OWN_PERSON_ID");
const OWN_NAME = env("OWN_PERSON_NAME");
const OWN_EMAIL = env("OWN_PERSON_EMAIL");
const OTHER_ID = env("OTHER_PERSON_ID");
const OTHER_NAME = env("OTHER_PERSON_NAME");
const OTHER_EMAIL = env("OTHER_PERSON_EMAIL");
const DAY = env("DAY");
const FROM = env("FROM");
const SHOTS = env("SCREENSHOT_DIR");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

mkdirSync(SHOTS, { recursive: true });
// A failure picture from an earlier run would look like one from this run.
rmSync(join(SHOTS, "dashboard-failure.png"), { force: true });

let failures = 0;
function check(ok, what) {
  if (ok) console.log(`ok   ${what}`);
  else {
    failures++;
    console.log(`FAIL ${what}`);
  }
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // Without the background-networking flags Chromium keeps trying Google's hosts, which this
  // closed network refuses.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const consoleErrors = [];
/** The page in use, for a screenshot when a step fails. */
let current = null;
const cspViolations = [];
const pageErrors = [];

async function newPage(colorScheme = "light") {
  const context = await browser.newContext({
    colorScheme,
    viewport: { width: 1366, height: 820 },
    locale: "en-GB",
    timezoneId: "UTC",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
    if (m.text().includes("Content Security Policy")) cspViolations.push(m.text());
  });
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(15_000);
  current = page;
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `dashboard-${name}.png`), fullPage: true });
  console.log(`     screenshot dashboard-${name}.png`);
}

async function login(page, email) {
  await page.goto(`${BASE}/`);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function bodyText(page) {
  return (await page.locator("body").textContent()) ?? "";
}

try {
  const { context, page } = await newPage();

  // Login: a wrong password shows the server's message, then the right one gets in.
  await page.goto(`${BASE}/`);
  await page.getByRole("heading", { name: "Team dashboard" }).waitFor();
  await shot(page, "login");
  await page.getByLabel("E-mail").fill(LEAD);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  const err = page.getByRole("alert");
  await err.waitFor();
  check((await err.textContent()).includes("wrong"), "a wrong password shows the server's message");

  await login(page, LEAD);
  await page.getByRole("heading", { name: TEAM_NAME }).waitFor();
  await page.getByRole("link", { name: OWN_NAME }).waitFor();
  let text = await bodyText(page);
  check(text.includes("Working now"), "the overview shows who is working now");
  check(text.includes(OWN_NAME), "the lead sees their own team's member");
  check(!text.includes(OTHER_NAME), "the overview shows nobody from the other team");
  check(/Work > Development/.test(text), "top categories are listed");
  check(
    text.includes("Quarterly plan.odt"),
    "a window title the member's policy lets leave the PC is shown with their presence",
  );
  await shot(page, "overview");

  // The other team's person, by URL: not found, and nothing of theirs on the page.
  const other = await page.goto(`${BASE}/people/${OTHER_ID}/days/${DAY}`);
  check(other?.status() === 200, "the page itself loads (the app shows the API's answer)");
  await page.getByTestId("not-found").waitFor();
  text = await bodyText(page);
  check(text.includes("Not found"), "another team's person is shown as not found");
  check(
    !text.includes(OTHER_NAME) && !text.includes(OTHER_EMAIL),
    "no name or e-mail of the other team's person appears",
  );
  const otherTeam = await page.request.get(`${BASE}/api/people/${OTHER_ID}/days/${DAY}`);
  check(otherTeam.status() === 404, "the API answers 404 for the other team's person");
  await shot(page, "forbidden");

  // Own member's day, through the link on the overview.
  await page.goto(`${BASE}/`);
  await page.getByRole("link", { name: OWN_NAME }).click();
  await page.getByTestId("timeline").waitFor();
  check(page.url().endsWith(`/people/${OWN_ID}/days/${DAY}`), "the link opens the person's day");
  text = await bodyText(page);
  check(text.includes("Break"), "the idle decision is shown on the day");
  const segments = await page.locator(".timeline .seg").count();
  check(segments >= 3, `the timeline has work and idle segments (${segments})`);
  const titles = await page
    .locator(".timeline .seg.work")
    .evaluateAll((els) => els.map((e) => e.getAttribute("title") ?? ""));
  check(
    titles.some((x) => x.includes("Work > Development")) &&
      titles.some((x) => x.includes("Communication")),
    "the timeline's work is coloured by category, hour by hour",
  );
  await shot(page, "person-day");

  // Trends with charts, then the CSV and the PDF for the same range.
  await page.goto(`${BASE}/teams/${TEAM}/trends?from=${FROM}&to=${DAY}`);
  await page.getByRole("heading", { name: "Hours per day" }).waitFor();
  await page.locator("canvas").first().waitFor();
  const canvases = await page.locator("canvas").count();
  check(canvases === 2, "trends draw the per-day chart and the category chart");
  await page.waitForTimeout(300);
  await shot(page, "trends");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("csv").click(),
  ]);
  const csvPath = await download.path();
  const csv = readFileSync(csvPath, "utf8");
  const lines = csv.trim().split("\n");
  check(
    lines[0] === "day,email,name,sessions,clocked_hours,active_hours,idle_hours,activity_level",
    "the CSV has the timesheet header",
  );
  check(
    lines.some((l) => l.startsWith(`${DAY},${OWN_EMAIL},`)),
    "the CSV has today's row for the team member",
  );
  check(!csv.includes(OTHER_EMAIL), "the CSV has nobody from the other team");
  check(download.suggestedFilename().endsWith(".csv"), "the CSV downloads as a .csv file");

  const pdfHref = await page.getByTestId("pdf").getAttribute("href");
  const pdf = await page.request.get(`${BASE}${pdfHref}`);
  const pdfBody = await pdf.body();
  check(pdf.status() === 200, "the PDF report answers 200");
  check(pdf.headers()["content-type"] === "application/pdf", "the PDF is served as a PDF");
  check(pdfBody.subarray(0, 5).toString() === "%PDF-", "the PDF report is a PDF file");
  writeFileSync(join(SHOTS, "dashboard-report.pdf"), pdfBody);
  const pdfRu = await page.request.get(`${BASE}${pdfHref?.replace("lang=en", "lang=ru")}`);
  check(pdfRu.status() === 200, "the Russian PDF report answers 200");
  writeFileSync(join(SHOTS, "dashboard-report-ru.pdf"), await pdfRu.body());

  // Language switch: the same page in Russian.
  await page.getByRole("button", { name: "RU" }).click();
  await page.getByRole("heading", { name: "Часы по дням" }).waitFor();
  check(true, "the language switch shows the page in Russian");
  await shot(page, "trends-ru");
  await page.getByRole("button", { name: "EN" }).click();

  // Alerts: acknowledge the open one.
  await page.goto(`${BASE}/alerts`);
  const alert = page.getByTestId("alert").first();
  await alert.waitFor();
  text = await alert.textContent();
  check(text.includes("clients.xlsx"), "the alert shows the file that left");
  check(text.includes(OWN_NAME), "the alert names the person");
  await shot(page, "alerts");
  await alert.getByRole("button", { name: "Acknowledge" }).click();
  await page.getByText("No open alerts").waitFor();
  check(true, "acknowledging empties the inbox");

  // Leaving: the lead marks their member as leaving and reads the departure report.
  await page.getByRole("link", { name: "Leaving" }).click();
  const mark = page.getByTestId("mark-leaving");
  await mark.getByRole("option", { name: OWN_NAME }).waitFor({ state: "attached" });
  await mark.getByLabel("Person").selectOption({ label: OWN_NAME });
  await mark.getByLabel("Last working day").fill(DAY);
  await mark.getByLabel("Reason").fill("resigned, joins a competitor");
  await mark.getByRole("button", { name: "Mark as leaving" }).click();
  const watchRow = page.getByTestId("watch").filter({ hasText: OWN_NAME });
  await watchRow.waitFor();
  check((await watchRow.textContent()).includes("watched"), "the watch is listed as in force");
  await shot(page, "leaving");
  await watchRow.getByRole("link", { name: "Departure report" }).click();
  const report = page.getByTestId("departure-report");
  await report.waitFor();
  text = await report.textContent();
  check(text.includes(`Departure report: ${OWN_NAME}`), "the report names the person");
  check(text.includes("clients.xlsx"), "the report lists the file that left");
  await shot(page, "departure");
  await context.close();

  // The admin's pages: audit log (with this run's reads in it) and devices.
  const admin = await newPage();
  await login(admin.page, ADMIN);
  await admin.page.getByRole("link", { name: "Administration" }).click();
  await admin.page.getByRole("link", { name: "Audit log" }).click();
  await admin.page.getByRole("columnheader", { name: "Whose data" }).waitFor();
  text = await bodyText(admin.page);
  check(text.includes("export_report"), "the audit log shows the PDF export");
  check(text.includes("acknowledge_alert"), "the audit log shows the acknowledgement");
  await shot(admin.page, "admin-audit");
  await admin.page.getByRole("link", { name: "Devices" }).click();
  await admin.page.getByRole("columnheader", { name: "Last upload" }).waitFor();
  await shot(admin.page, "admin");
  await admin.page.getByRole("link", { name: "Policy" }).click();
  const editor = admin.page.getByRole("textbox", { name: "Policy" });
  await editor.waitFor();
  await editor.fill('{"idle_threshold_secs": "soon"}');
  await admin.page.getByRole("button", { name: "Save" }).click();
  const policyError = admin.page.getByRole("alert");
  await policyError.waitFor();
  check(
    (await policyError.textContent()).includes("the policy is invalid"),
    "a policy the server refuses shows the server's reason",
  );
  await shot(admin.page, "admin-policy");

  // Deactivating a person asks first, then shows them as deactivated.
  admin.page.once("dialog", (d) => d.accept());
  await admin.page.getByRole("link", { name: "People" }).click();
  const row = admin.page.getByRole("row").filter({ hasText: OTHER_EMAIL });
  await row.getByRole("button", { name: "Deactivate" }).click();
  await row.getByText("Deactivated").waitFor();
  check(true, "an admin deactivates a person after confirming");

  // An enrollment token for a person, shown once.
  await admin.page.getByRole("link", { name: "Enrollment tokens" }).click();
  await admin.page
    .getByRole("combobox", { name: "Person" })
    .selectOption({ label: `${OWN_NAME} (${OWN_EMAIL})` });
  await admin.page.getByRole("button", { name: "Create token" }).click();
  const token = admin.page.getByTestId("token");
  await token.waitFor();
  check(
    ((await token.locator("code").textContent()) ?? "").length >= 20,
    "a new enrollment token is shown",
  );
  await admin.page.getByRole("link", { name: "Teams" }).click();
  await admin.page.getByRole("heading", { name: "Team B" }).waitFor();
  await shot(admin.page, "admin-teams");
  await admin.context.close();

  // The OS theme is followed: the overview in dark mode.
  const dark = await newPage("dark");
  await login(dark.page, LEAD);
  await dark.page.getByRole("link", { name: OWN_NAME }).waitFor();
  const bg = await dark.page.evaluate(
    () => getComputedStyle(document.documentElement).backgroundColor,
  );
  const rgb = (bg.match(/\d+/g) ?? []).map(Number);
  check(
    rgb.length >= 3 && rgb[0] < 60 && rgb[1] < 60 && rgb[2] < 60,
    `the dark OS theme gives a dark page (${bg})`,
  );
  await shot(dark.page, "overview-dark");
  await dark.context.close();

  check(pageErrors.length === 0, `no uncaught errors in the page (${pageErrors})`);
  check(cspViolations.length === 0, `no Content-Security-Policy violations (${cspViolations})`);
} catch (e) {
  failures++;
  console.log(`FAIL the walk stopped: ${e instanceof Error ? e.stack : e}`);
  if (current) {
    console.log(
      `     at ${current.url()}:\n${(await bodyText(current).catch(() => "")).slice(0, 2000)}`,
    );
    await shot(current, "failure").catch(() => {});
  }
  if (pageErrors.length > 0)
    console.log(`uncaught errors in the page:\n  ${pageErrors.join("\n  ")}`);
} finally {
  await browser.close();
}

if (consoleErrors.length > 0)
  console.log(`browser console errors (expected 401/404 reads):\n  ${consoleErrors.join("\n  ")}`);
console.log(failures === 0 ? "all checks passed" : `${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
