// Progressive enhancement for the sign-up and manage forms; both work without it.
// 1. On a fresh sign-up form, pick the browser's time zone (the visitor can still change it).
// 2. Show the weekday only when "weekly" is chosen.
// 3. After a failed save, bring the error summary into view and focus it, so the reader (and a
//    screen reader) learns at once that something needs fixing, and where.
(function () {
  var summary = document.getElementById("form-errors");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
  }
  var script = document.currentScript;
  var zone = document.getElementById("id_timezone");
  if (script && script.hasAttribute("data-fill-timezone") && zone) {
    try {
      var name = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (name === "Etc/UTC" || name === "Etc/GMT") { name = "UTC"; }
      for (var i = 0; i < zone.options.length; i++) {
        if (zone.options[i].value === name) { zone.value = name; break; }
      }
    } catch (e) { /* an old browser keeps the server's default */ }
  }
  var weekday = document.querySelector("[data-weekday]");
  var radios = document.querySelectorAll("input[name=frequency]");
  function sync() {
    var weekly = document.querySelector("input[name=frequency]:checked");
    if (weekday) { weekday.hidden = !(weekly && weekly.value === "weekly"); }
  }
  for (var j = 0; j < radios.length; j++) { radios[j].addEventListener("change", sync); }
  sync();
})();
