// Worker pages (/j/): the code button sends in place with a countdown, the employer box
// searches registered employers, the gig occupation shows for gig workers only. Every page
// also works without this script (plain form posts). ES5 for older in-app browsers.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function encode(data) {
    var parts = [];
    for (var key in data) {
      if (Object.prototype.hasOwnProperty.call(data, key)) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(data[key]));
      }
    }
    return parts.join("&");
  }

  // --- "获取验证码": send in place, then count down before a resend is allowed.
  function initSendCode(button) {
    var form = button.form;
    var status = form.querySelector("[data-code-status]");
    var phone = form.querySelector("input[name=phone]");
    var label = button.textContent;
    var timer = null;

    function show(text, ok) {
      status.textContent = text;
      status.className = "code-status " + (ok ? "ok" : "err");
    }

    function countdown(seconds) {
      var left = seconds;
      button.disabled = true;
      timer = window.setInterval(function () {
        left -= 1;
        if (left <= 0) {
          window.clearInterval(timer);
          button.disabled = false;
          button.textContent = label;
        } else {
          button.textContent = left + " 秒后重发";
        }
      }, 1000);
      button.textContent = left + " 秒后重发";
    }

    button.addEventListener("click", function (event) {
      if (!window.fetch) {
        return; // the form posts back and the page says the code was sent
      }
      event.preventDefault();
      if (!phone.value.replace(/\s/g, "")) {
        show("请先填写手机号码", false);
        phone.focus();
        return;
      }
      button.disabled = true;
      fetch(button.getAttribute("data-sms-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRFToken": csrfToken(form),
        },
        body: encode({ phone: phone.value, purpose: button.getAttribute("data-purpose") }),
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (data) {
          if (data.ok) {
            show(data.message, true);
            countdown(data.resend_after || 60);
            var code = form.querySelector("input[name=code]");
            if (code) code.focus();
          } else {
            var errors = data.errors || {};
            show(errors.phone || errors.purpose || "验证码发送失败，请稍后再试", false);
            button.disabled = false;
          }
        })
        .catch(function () {
          show("网络不稳定，验证码发送失败，请稍后再试", false);
          button.disabled = false;
        });
    });
  }

  // --- Employer search: registered employers of the union's area, names only.
  function initEmployerSearch(box) {
    var input = box.querySelector("input[name=employer_name]");
    var list = box.querySelector("[data-suggest]");
    var hidden = input.form.querySelector("input[name=employer]");
    var url = box.getAttribute("data-url");
    var pending = null;
    var seq = 0;
    input.setAttribute("autocomplete", "off");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
    }

    function render(results, query) {
      list.innerHTML = "";
      results.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = item.name;
        button.addEventListener("click", function () {
          input.value = item.name;
          hidden.value = item.id;
          close();
        });
        li.appendChild(button);
        list.appendChild(li);
      });
      var hint = document.createElement("li");
      hint.className = "hint";
      hint.textContent = results.length
        ? "找不到您的单位？照实填写全称即可"
        : "未找到“" + query + "”，请照实填写单位全称";
      list.appendChild(hint);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      var query = input.value.replace(/^\s+|\s+$/g, "");
      window.clearTimeout(pending);
      if (query.length < 2 || !window.fetch) {
        close();
        return;
      }
      pending = window.setTimeout(function () {
        var mine = ++seq;
        fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
          .then(function (response) {
            return response.json();
          })
          .then(function (data) {
            if (mine === seq) render(data.results || [], query);
          })
          .catch(close);
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") close();
    });
    document.addEventListener("click", function (event) {
      if (!box.contains(event.target)) close();
    });
  }

  // --- Gig occupation only for gig workers.
  function initGig(form) {
    var field = form.querySelector("[data-field=gig_occupation]");
    if (!field) return;
    var radios = form.querySelectorAll("input[name=employment_form]");
    function update() {
      var gig = form.querySelector("input[name=employment_form]:checked");
      field.hidden = !(gig && gig.value === "gig");
    }
    for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-send-code]");
    for (var i = 0; i < buttons.length; i++) initSendCode(buttons[i]);
    var boxes = document.querySelectorAll("[data-employer-search]");
    for (var j = 0; j < boxes.length; j++) initEmployerSearch(boxes[j]);
    var forms = document.querySelectorAll("[data-join-form]");
    for (var k = 0; k < forms.length; k++) initGig(forms[k]);
  });
})();
