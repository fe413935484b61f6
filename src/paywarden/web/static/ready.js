// Runs after every page module (module scripts run in document order, and this one is
// the last in <head>): each page's buttons are wired by now. Until this line, pages.css
// keeps buttons from taking clicks, so a click while the page is still loading waits
// instead of submitting a form natively (a GET to the page itself that drops what was
// typed). The Chromium tests rely on the same mark.
document.documentElement.dataset.ready = "true";
