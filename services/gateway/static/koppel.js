// Progressive enhancement only: every form works without this file.
// A filter form marked data-autosubmit submits when its checkbox changes, or when a select is changed
// with the mouse. A select changed with the keyboard does not submit (each arrow key is a change in
// Chromium: the page would reload under the user's fingers, WCAG 3.2.2); its form's button does.
var pointerOn = null;
document.addEventListener("pointerdown", function (event) {
  pointerOn = event.target.closest ? event.target.closest("select") : null;
});
document.addEventListener("keydown", function () { pointerOn = null; });
document.addEventListener("change", function (event) {
  var target = event.target, form = target.form;
  if (!form || !form.hasAttribute("data-autosubmit") || form.method.toLowerCase() !== "get") {
    return;
  }
  if (target.tagName === "SELECT" && target !== pointerOn) {
    return;
  }
  form.submit();
});
