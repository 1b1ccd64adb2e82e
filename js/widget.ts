// Placeholder front-end; replaced by the widget issue's front-end.
export default {
  render({ el }: { el: HTMLElement }) {
    el.textContent = "realtime_widget";
  },
};
