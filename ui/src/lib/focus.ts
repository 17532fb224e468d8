/** `use:autofocus`: focuses the element when it appears (a picked seat's secret box). Used
 *  instead of the `autofocus` attribute, which fires only on page load in some webviews. */
export function autofocus(node: HTMLElement): void {
  node.focus();
}
