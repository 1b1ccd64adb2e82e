import { describe, expect, it } from "vitest";
import { MAX_IMAGE_BYTES, imageProblem, pickFile } from "./images";

describe("pasted and dropped images", () => {
  it("picks the first image of a paste or drop, else the first file, else nothing", () => {
    const txt = { name: "a.txt", type: "text/plain", size: 3 };
    const png = { name: "b.png", type: "image/png", size: 10 };
    expect(pickFile([txt, png])).toBe(png);
    expect(pickFile([txt])).toBe(txt);
    expect(pickFile([])).toBeNull();
    expect(pickFile(null)).toBeNull();
  });

  it("accepts PNG and JPEG under the cap", () => {
    expect(imageProblem({ name: "p.png", type: "image/png", size: 1000 })).toBeNull();
    expect(imageProblem({ type: "image/jpeg", size: MAX_IMAGE_BYTES })).toBeNull();
  });

  it("says why a file cannot be sent, naming it", () => {
    expect(imageProblem({ name: "doc.pdf", type: "application/pdf", size: 5 })).toMatch(
      /^doc\.pdf is application\/pdf, not a PNG or JPEG image/,
    );
    expect(imageProblem({ type: "image/gif", size: 5 })).toMatch(/^The pasted image is image\/gif/);
    expect(imageProblem({ name: "big.png", type: "image/png", size: 50 * 1024 * 1024 })).toBe(
      "big.png is 52.4 MB, over the 8.4 MB limit for one image: make it smaller (a smaller screenshot, or save it as JPEG).",
    );
    expect(imageProblem({ name: "e.png", type: "image/png", size: 0 })).toBe("e.png is empty.");
  });
});
