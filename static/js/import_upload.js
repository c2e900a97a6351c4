// The upload form's progress bar (htmx reports the upload's progress). Bound on the document, so that the
// form swapped in by htmx after an error is covered too.
(function () {
  "use strict";
  document.addEventListener("htmx:xhr:progress", function (evt) {
    var form = evt.target.closest && evt.target.closest("#upload-form");
    var bar = form && form.querySelector("#upload-progress");
    if (bar && evt.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = evt.detail.loaded / evt.detail.total * 100;
    }
  });
})();
