/**
 * anywidget entry point: `initialize` per model (controller, shared audio engine), `render` per
 * view. Only wiring lives here; see js/state, js/view and js/audio.
 */
import type { AnyModel } from "@anywidget/types";
import { Controller } from "./state/controller";
import type { WidgetTraits } from "./state/model";
import { renderView } from "./view/root";
import "./widget.css";

/**
 * One controller (and audio engine) per widget. anywidget gives `initialize` and every `render`
 * a different model proxy object, so they are matched by the widget's `_instance_id` trait.
 */
const controllers = new Map<string, Controller>();

function keyOf(model: AnyModel<WidgetTraits>): string {
  return model.get("_instance_id") || "";
}

function controllerFor(model: AnyModel<WidgetTraits>): Controller {
  const key = keyOf(model);
  if (!key) return new Controller(model); // state saved without an id: nothing to share by
  let c = controllers.get(key);
  if (!c) {
    c = new Controller(model);
    controllers.set(key, c);
  }
  return c;
}

export default {
  initialize({ model }: { model: AnyModel<WidgetTraits> }) {
    const key = keyOf(model);
    const c = controllerFor(model);
    return () => {
      c.dispose();
      if (controllers.get(key) === c) controllers.delete(key);
    };
  },
  render({ model, el }: { model: AnyModel<WidgetTraits>; el: HTMLElement }) {
    return renderView(controllerFor(model), el);
  },
};
