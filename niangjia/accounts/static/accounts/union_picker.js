// Union picker of the account pages: typing in the search box refreshes the drop-down with
// matching unions of the viewer's scope. Without JavaScript the 查找 button does the same.
(function () {
  "use strict";
  function refresh(input) {
    var select = document.getElementById(input.getAttribute("data-union-select"));
    if (!select) { return; }
    var url = input.getAttribute("data-union-search") + "&q=" + encodeURIComponent(input.value.trim());
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        var chosen = select.value;
        var keep = chosen ? select.querySelector('option[value="' + chosen + '"]') : null;
        while (select.options.length > 1) { select.remove(1); }
        if (keep) { select.add(keep); }
        data.results.forEach(function (item) {
          if (String(item.id) === chosen) { return; }
          var option = document.createElement("option");
          option.value = item.id;
          option.textContent = item.label;
          select.add(option);
        });
        if (!chosen && data.results.length === 1) { select.value = String(data.results[0].id); }
      });
  }
  document.querySelectorAll("[data-union-search]").forEach(function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(input); }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); refresh(input); }
    });
  });
})();
