import { describe, expect, it } from "vitest";
import { fileFromReply, safeFilename } from "./download";

const view = (bytes: number[]) => {
  // An offset view, as comm buffers may be: only its own bytes are taken.
  const whole = new Uint8Array([9, 9, ...bytes, 9]);
  return new DataView(whole.buffer, 2, bytes.length);
};

describe("fileFromReply", () => {
  it("takes the buffer's own bytes with the kernel's name and type", () => {
    const file = fileFromReply(
      { type: "download", request_id: "r", filename: "conversation-1.md", mime: "text/markdown", size: 3 },
      [view([65, 66, 67])],
    );
    expect(file).not.toBeNull();
    expect(file!.filename).toBe("conversation-1.md");
    expect(file!.mime).toBe("text/markdown");
    expect(Array.from(file!.bytes)).toEqual([65, 66, 67]);
  });

  it("gives nothing for an error, a missing buffer or a size mismatch", () => {
    expect(fileFromReply({ type: "download", request_id: "r", error: "no audio" }, [view([1])])).toBeNull();
    expect(fileFromReply({ type: "download", request_id: "r", filename: "a.wav" }, [])).toBeNull();
    expect(fileFromReply({ type: "download", request_id: "r", filename: "a.wav", size: 4 }, [view([1, 2])])).toBeNull();
  });
});

describe("safeFilename", () => {
  it("keeps plain names and strips path parts and control characters", () => {
    expect(safeFilename("conversation-20261206.wav", "x")).toBe("conversation-20261206.wav");
    expect(safeFilename("../../etc/passwd", "x")).toBe(".._.._etc_passwd");
    expect(safeFilename("a\u0000b", "x")).toBe("a_b");
    expect(safeFilename("", "conversation")).toBe("conversation");
    expect(safeFilename("..", "conversation")).toBe("conversation");
  });
});
