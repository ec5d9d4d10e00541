// One Vite project, two front ends: `--mode desktop` builds the Tauri webview into dist/desktop,
// `--mode dashboard` builds the team-lead dashboard (served by worktrace-server) into
// dist/dashboard. Both are fully bundled: nothing is fetched from the network at run time.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig(({ mode }) => {
  const app = mode === "dashboard" ? "dashboard" : "desktop";
  return {
    root: here(`./src/${app}`),
    base: "./",
    publicDir: false,
    plugins: [react()],
    resolve: { alias: { "@shared": here("./src/shared"), "@bindings": here("./src/bindings") } },
    build: {
      outDir: here(`./dist/${app}`),
      emptyOutDir: true,
      target: "es2022",
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 800,
    },
    server: { port: app === "dashboard" ? 5174 : 5173, strictPort: true },
    test: {
      root: here("."),
      include: ["src/**/*.test.{ts,tsx}"],
      environment: "jsdom",
    },
  };
});
