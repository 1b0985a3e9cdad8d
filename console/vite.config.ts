import { defineConfig } from "vite";

// The binary embeds dist/ (crates/nereid-http/build.rs) and serves it at / and /assets/.
export default defineConfig({
  base: "/",
  build: { outDir: "dist", assetsDir: "assets", sourcemap: false, chunkSizeWarningLimit: 2000 },
});
