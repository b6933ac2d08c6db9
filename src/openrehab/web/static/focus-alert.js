// Move focus to a form's error list so keyboard and screen-reader users hear what to fix.
document.querySelector("[role=alert][tabindex='-1']")?.focus();
