// niangjia member registry, cadre pages: tick all applications, show the reserve reasons only
// when reserving. Every page works without this file.
(function () {
  "use strict";

  function initBulk(form) {
    var all = form.querySelector("[data-check-all]");
    var boxes = form.querySelectorAll('input[name="ids"]');
    var counter = form.querySelector("[data-checked-count]");
    function count() {
      var n = 0;
      boxes.forEach(function (b) {
        if (b.checked) n += 1;
      });
      if (counter) counter.textContent = n ? "已勾选 " + n + " 份" : "请先勾选申请";
      if (all) all.checked = n > 0 && n === boxes.length;
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) {
          b.checked = all.checked;
        });
        count();
      });
    }
    boxes.forEach(function (b) {
      b.addEventListener("change", count);
    });
    count();
  }

  function initStatus(form) {
    var select = form.querySelector('select[name="to_status"]');
    var reserve = form.querySelector('[data-field="reserve_reason"]');
    if (!select || !reserve) return;
    function sync() {
      reserve.hidden = select.value !== "reserved" && !reserve.classList.contains("has-error");
    }
    select.addEventListener("change", sync);
    sync();
  }

  function init() {
    document.querySelectorAll("[data-bulk-form]").forEach(initBulk);
    document.querySelectorAll("[data-status-form]").forEach(initStatus);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
