/** A tiny element builder: h("button", {type: "button", "aria-label": "Send"}, "Send"). */
export type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/** Set or remove an attribute, touching the DOM only on change. */
export function attr(el: Element, name: string, value: string | null): void {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

/** Set text, touching the DOM only on change. */
export function text(el: Element, value: string): void {
  if (el.textContent !== value) el.textContent = value;
}

/** Register a listener and return its remover (collected for the view's cleanup). */
export function listen(
  el: EventTarget,
  type: string,
  fn: (e: any) => void,
  disposers: (() => void)[],
): void {
  el.addEventListener(type, fn);
  disposers.push(() => el.removeEventListener(type, fn));
}
