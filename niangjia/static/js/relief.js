// Hardship relief pages: small enhancements; every page also works without this script.
// - the file form: "添加一位家庭成员" adds a row of the household formset in place;
// - a file's page: "查看号码" beside a household member prefills the reveal form;
// - attachments: a file over the size limit is refused before it is sent;
// - the poster: the print button.
(function () {
  "use strict";

  function initHousehold(box) {
    var rows = box.querySelector("[data-household-rows]");
    var template = box.querySelector("template[data-household-template]");
    var button = box.querySelector("[data-household-add]");
    var hint = box.querySelector("[data-household-hint]");
    var total = box.querySelector("input[name$='-TOTAL_FORMS']");
    var max = box.querySelector("input[name$='-MAX_NUM_FORMS']");
    if (!rows || !template || !button || !total) return;
    button.hidden = false;
    if (hint) hint.hidden = true;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      if (max && index >= parseInt(max.value, 10)) {
        button.disabled = true;
        return;
      }
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input[type=text], select");
      if (first) first.focus();
    });
  }

  function initRevealLinks() {
    document.addEventListener("click", function (event) {
      if (event.target.closest("[data-print]")) {
        window.print();
        return;
      }
      var link = event.target.closest("[data-reveal-member]");
      if (!link) return;
      var form = document.querySelector("#reveal form");
      if (!form) return;
      var member = form.querySelector("input[name=household_member]");
      var field = form.querySelector("select[name=field]");
      if (member) member.value = link.getAttribute("data-reveal-member");
      if (field) field.value = "id_number";
      var reason = form.querySelector("input[name=reason]");
      if (reason) window.setTimeout(function () { reason.focus(); }, 50);
    });
  }

  function initUploads() {
    var inputs = document.querySelectorAll("input[type=file][data-max-bytes]");
    Array.prototype.forEach.call(inputs, function (input) {
      var limitMb = parseInt(input.getAttribute("data-max-bytes"), 10);
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        input.setCustomValidity("");
        if (file && limitMb && file.size > limitMb * 1024 * 1024) {
          input.value = "";
          window.alert("“" + file.name + "”超过 " + limitMb + " MB，请压缩后再上传");
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-household]");
    if (box) initHousehold(box);
    initRevealLinks();
    initUploads();
  });
})();
