// Small comforts for every page. Everything works without this file.
(function () {
  'use strict';
  // Actions menus are <details> disclosures. Close the others when one
  // opens, on Escape (returning focus to its button) and on a click
  // outside, as people expect of a menu.
  function menus() { return document.querySelectorAll('details.menu[open]'); }
  document.addEventListener('toggle', function (e) {
    var d = e.target;
    if (!(d instanceof HTMLDetailsElement) || !d.classList.contains('menu') || !d.open) return;
    menus().forEach(function (o) { if (o !== d) o.open = false; });
  }, true);
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    menus().forEach(function (d) {
      d.open = false;
      if (d.contains(document.activeElement)) d.querySelector('summary').focus();
    });
  });
  document.addEventListener('click', function (e) {
    menus().forEach(function (d) { if (!d.contains(e.target)) d.open = false; });
  });
})();
