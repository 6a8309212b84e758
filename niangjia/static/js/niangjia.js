// niangjia: small progressive enhancements; every page also works without them.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    var confirmBtn = event.target.closest("[data-confirm]");
    if (confirmBtn && !window.confirm(confirmBtn.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
