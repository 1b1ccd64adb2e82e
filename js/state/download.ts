/**
 * Downloads: the kernel builds the file (Markdown transcript, WAV audio) and sends its bytes as
 * one binary buffer; the browser saves them through a Blob and an `<a download>` click.
 */

export type DownloadFormat = "markdown" | "wav";

/** Kernel -> browser reply to a `download` request. */
export interface DownloadReply {
  type: "download";
  request_id: string | null;
  filename?: string;
  mime?: string;
  size?: number;
  /** Why there is no file (no audio yet, ...); the kernel also lists it in `errors`. */
  error?: string;
}

export interface DownloadFile {
  filename: string;
  mime: string;
  bytes: Uint8Array;
}

/** A safe file name: no path separators or control characters, never empty. */
export function safeFilename(name: string | undefined, fallback: string): string {
  const cleaned = (name || "").replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_").trim();
  return cleaned && cleaned !== "." && cleaned !== ".." ? cleaned.slice(0, 120) : fallback;
}

/** The file a reply carries, or null (an error reply, or a missing or short buffer). */
export function fileFromReply(reply: DownloadReply, buffers: DataView[]): DownloadFile | null {
  if (reply.error) return null;
  const view = buffers[0];
  if (!view) return null;
  if (reply.size !== undefined && view.byteLength !== reply.size) return null;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return {
    filename: safeFilename(reply.filename, "conversation"),
    mime: reply.mime || "application/octet-stream",
    bytes,
  };
}

/** Save a file in the browser: a Blob URL clicked through a temporary `<a download>`. */
export function saveFile(file: DownloadFile, doc: Document = document): void {
  const blob = new Blob([file.bytes as BlobPart], { type: file.mime });
  const url = URL.createObjectURL(blob);
  const a = doc.createElement("a");
  a.href = url;
  a.download = file.filename;
  a.style.display = "none";
  doc.body.append(a);
  try {
    a.click();
  } finally {
    a.remove();
    // Revoked later: some browsers read the URL after click() has returned.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}
