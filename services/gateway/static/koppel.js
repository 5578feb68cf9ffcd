// Progressive enhancement only: every form works without this file.
// A filter form marked data-autosubmit submits when a select or checkbox changes.
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (form && form.hasAttribute("data-autosubmit") && form.method.toLowerCase() === "get") {
    form.submit();
  }
});
