/**
 * Pasted and dropped images (issue 12): which file to take from a paste or a drop, and whether
 * to send it. Pure: the browser checks first so a wrong file gets a notice at once, without
 * sending megabytes; the kernel checks again (realtime_widget/images.py) and has the last word.
 */

/** Same cap as the kernel's `MAX_IMAGE_BYTES` (8 MiB of PNG/JPEG). */
export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;

/** The image types the Realtime API accepts. */
export const IMAGE_TYPES = ["image/png", "image/jpeg"];

/** What a pasted or dropped file looks like here (a `File` has all three). */
export interface ImageFile {
  name?: string;
  type: string;
  size: number;
}

/**
 * The first file of a paste or drop that is an image or, failing that, the first file at all
 * (so a dropped PDF gets a notice instead of being ignored); `null` when there is no file (a
 * text paste, which the text box keeps).
 */
export function pickFile<T extends ImageFile>(files: ArrayLike<T> | null | undefined): T | null {
  const list = Array.from(files ?? []);
  return list.find((f) => f.type.startsWith("image/")) ?? list[0] ?? null;
}

/** Why `file` cannot be sent (a sentence saying what to do), or `null` when it can. */
export function imageProblem(file: ImageFile): string | null {
  const name = file.name || "The pasted image";
  if (!IMAGE_TYPES.includes(file.type)) {
    const kind = file.type || "a file of unknown type";
    return `${name} is ${kind}, not a PNG or JPEG image: only PNG and JPEG can be sent (save or screenshot it as PNG).`;
  }
  if (file.size > MAX_IMAGE_BYTES) {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    return `${name} is ${mb(file.size)} MB, over the ${mb(MAX_IMAGE_BYTES)} MB limit for one image: make it smaller (a smaller screenshot, or save it as JPEG).`;
  }
  if (file.size === 0) return `${name} is empty.`;
  return null;
}
