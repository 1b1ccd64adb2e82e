import { defineConfig } from "vitest/config";

// Unit tests of the front-end's pure logic (js/**/*.test.ts); no browser needed.
export default defineConfig({
  test: {
    include: ["js/**/*.test.ts"],
    environment: "node",
    testTimeout: 20000,
  },
});
