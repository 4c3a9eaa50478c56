// After a refused form, move the focus to the first error (marked data-focus-error), so keyboard
// and screen-reader users land on what to fix instead of at the top of the page.
document.addEventListener("DOMContentLoaded", () => {
  const error = document.querySelector("[data-focus-error]");
  if (error) {
    error.focus();
  }
});
