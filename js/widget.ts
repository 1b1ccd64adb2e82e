/**
 * anywidget entry point: `initialize` per model (controller, shared audio engine), `render` per
 * view. Only wiring lives here; see js/state, js/view and js/audio.
 */
import type { AnyModel } from "@anywidget/types";
import { Controller } from "./state/controller";
import type { WidgetTraits } from "./state/model";
import { renderView } from "./view/root";
import "./widget.css";

const controllers = new WeakMap<object, Controller>();

function controllerFor(model: AnyModel<WidgetTraits>): Controller {
  let c = controllers.get(model);
  if (!c) {
    c = new Controller(model);
    controllers.set(model, c);
  }
  return c;
}

export default {
  initialize({ model }: { model: AnyModel<WidgetTraits> }) {
    const c = controllerFor(model);
    return () => {
      c.dispose();
      controllers.delete(model);
    };
  },
  render({ model, el }: { model: AnyModel<WidgetTraits>; el: HTMLElement }) {
    return renderView(controllerFor(model), el);
  },
};
