import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("the bundle (esbuild js/widget.ts as npm run build does)", () => {
  it("is a self-contained ES module exporting anywidget's initialize and render", async () => {
    const result = await build({
      entryPoints: ["js/widget.ts"],
      bundle: true,
      format: "esm",
      target: "es2020",
      outdir: "out",
      loader: { ".css": "css" },
      write: false,
    });
    const js = result.outputFiles.find((f) => f.path.endsWith(".js"))!.text;
    const css = result.outputFiles.find((f) => f.path.endsWith(".css"))!.text;
    expect(js).not.toMatch(/^\s*import\s/m); // nothing left to resolve at run time
    expect(css).toContain(".rtw-root");
    expect(css).toContain("var(--jp-layout-color1");
    // Importing it must not touch the DOM (anywidget imports it before rendering).
    const mod = await import(`data:text/javascript,${encodeURIComponent(js)}`);
    expect(typeof mod.default.initialize).toBe("function");
    expect(typeof mod.default.render).toBe("function");
  });
});
