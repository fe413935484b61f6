// Statements: choose an account, a date range and a format; download it.
import { statementForm } from "./bankkit.js";

const form = document.getElementById("statement-form");
if (form) {
  statementForm(form, document.getElementById("status"),
    () => document.getElementById("statement-account").value);
}
