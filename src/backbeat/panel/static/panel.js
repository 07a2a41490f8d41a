// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The autoplay mode only matters while autoplay is on.
  const enabled = document.getElementById("autoplay_enabled");
  const mode = document.getElementById("autoplay_mode");
  if (enabled && mode) {
    const sync = () => { mode.disabled = !enabled.checked; };
    enabled.addEventListener("change", sync);
    sync();
    // A disabled select is not submitted: enable it again just before submitting.
    enabled.form.addEventListener("submit", () => { mode.disabled = false; });
  }
  // Move focus to the first invalid field after a refused save.
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});
