// Dismissible flash messages (templates/components/messages.html): the close button removes its message.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-message-close]");
    if (!button) return;
    var message = button.closest("[data-message]");
    var list = message && message.parentElement;
    if (message) message.remove();
    if (list && !list.querySelector("[data-message]")) list.remove();
  });
})();
